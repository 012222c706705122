// The waitlist: guests told "we are full" wait for a start in a window; a freed table is offered
// to them as a hold (the entry's reservation_id), confirmed like any hold.
import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { found, idOf, queryString, restaurantOf, send } from './legacy';

type WaitlistRequest = components['schemas']['WaitlistRequest'];

export function waitlistRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });

  router.post('/waitlist', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const body = req.body as WaitlistRequest;
    send(res, await queries.joinWaitlist(actorOf(res, 'api'), restaurantId, body), 201);
  });

  router.get('/waitlist', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, found(await queries.waitlist(restaurantId, queryString(req, 'status')), 'restaurant'));
  });

  router.get('/waitlist/:id', async (req, res) => {
    send(res, found(await queries.waitlistEntry(restaurantOf(req, res), idOf(req)), 'waitlist_entry'));
  });

  router.delete('/waitlist/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.leaveWaitlist(actorOf(res, 'api'), restaurantId, idOf(req)));
  });

  return router;
}
