// The waitlist: guests told "we are full" wait for a start in a window; a freed table is offered
// to them as a hold (the entry's reservation_id), confirmed like any hold.
import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { refusal } from '../errors';
import { found, idOf, queryString, restaurantOf, send } from './legacy';

type WaitlistRequest = components['schemas']['WaitlistRequest'];

/**
 * The longest window a party may wait for. booking.join_waitlist (and every later offer) looks
 * for a table on each day of the window, so an unbounded one (latest in the year 9999) would
 * run until the statement timeout; the contract bounds it like any other input.
 */
export const MAX_WINDOW_DAYS = 7;

export function checkWindow(w: { earliest: string; latest: string }): void {
  if (Date.parse(w.latest) - Date.parse(w.earliest) > MAX_WINDOW_DAYS * 86_400_000) {
    throw refusal(400, 'invalid_request', `latest must be at most ${MAX_WINDOW_DAYS} days after earliest.`, 'invalid_window',
      'Ask for the window of starts the guest would really accept: a few hours, at most a few days.', { field: 'latest' });
  }
}

export function waitlistRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });

  router.post('/waitlist', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const body = req.body as WaitlistRequest;
    checkWindow(body);
    send(res, await queries.joinWaitlist(actorOf(res, 'api'), restaurantId, body), 201);
  });

  router.get('/waitlist', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, found(await queries.waitlist(restaurantId, queryString(req, 'status')), 'restaurant'));
  });

  router.get('/waitlist/:id', async (req, res) => {
    const entry = await queries.waitlistEntry(restaurantOf(req, res), idOf(req));
    // The reason booking.leave_waitlist gives for an unknown entry.
    if (entry === null) throw refusal(404, 'PT404', 'That waitlist entry does not exist.', 'waitlist_entry_not_found', 'Check the waitlist entry id.');
    send(res, entry);
  });

  router.delete('/waitlist/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.leaveWaitlist(actorOf(res, 'api'), restaurantId, idOf(req)));
  });

  return router;
}
