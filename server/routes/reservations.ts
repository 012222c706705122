import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { found, idOf, queryInteger, queryString, restaurantOf, send } from './legacy';

type BookRequest = components['schemas']['LegacyBookRequest'];
type RescheduleRequest = components['schemas']['LegacyRescheduleRequest'];
type StatusChange = components['schemas']['StatusChange'];

export function reservationRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });

  router.post('/reservations', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const { client, ...booking } = req.body as BookRequest;
    const data = await queries.bookLegacy(actorOf(res, 'api'), restaurantId, booking, client, req.get('Idempotency-Key') ?? null);
    send(res, data, 201);
  });

  router.get('/reservations', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const data = await queries.reservationsOfDay(restaurantId, queryString(req, 'date')!, queryString(req, 'status'), queryInteger(req, 'client_id'));
    send(res, found(data, 'restaurant'));
  });

  router.get('/reservations/:id', async (req, res) => {
    send(res, found(await queries.reservation(restaurantOf(req, res), idOf(req)), 'reservation'));
  });

  router.patch('/reservations/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.rescheduleLegacy(actorOf(res, 'api'), restaurantId, idOf(req), req.body as RescheduleRequest));
  });

  router.post('/reservations/:id/cancel', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.cancelLegacy(actorOf(res, 'api'), restaurantId, idOf(req)));
  });

  router.post('/reservations/:id/status', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.setStatusLegacy(actorOf(res, 'api'), restaurantId, idOf(req), (req.body as StatusChange).status));
  });

  router.get('/reservations/:id/history', async (req, res) => {
    send(res, found(await queries.history(restaurantOf(req, res), idOf(req)), 'reservation'));
  });

  return router;
}
