// Holds: a table kept for a few minutes while the guest decides, then confirmed or released.
// Answers like bookings: the legacy envelope {reservation, table}.
import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf } from '../auth';
import { idOf, restaurantOf, send } from './legacy';

type HoldRequest = components['schemas']['HoldRequest'];
type ConfirmHoldRequest = components['schemas']['ConfirmHoldRequest'];

export function holdRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });

  router.post('/holds', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const data = await queries.holdLegacy(actorOf(res, 'api'), restaurantId, req.body as HoldRequest, req.get('Idempotency-Key') ?? null);
    send(res, data, 201);
  });

  router.post('/holds/:id/confirm', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    // The body is optional: a confirmation needs nothing but the hold.
    const { client, ...confirm } = (req.body ?? {}) as ConfirmHoldRequest;
    send(res, await queries.confirmHoldLegacy(actorOf(res, 'api'), restaurantId, idOf(req), confirm, client));
  });

  router.delete('/holds/:id', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    send(res, await queries.releaseHoldLegacy(actorOf(res, 'api'), restaurantId, idOf(req)));
  });

  return router;
}
