import { Router } from 'express';
import type { Queries } from '../db';
import { queryString, restaurantOf, send } from './legacy';

export function availabilityRoutes(queries: Queries): Router {
  const router = Router({ mergeParams: true });
  router.get('/availability', async (req, res) => {
    const restaurantId = restaurantOf(req, res);
    const data = await queries.availability(restaurantId, queryString(req, 'date')!, Number(req.query.guests), queryString(req, 'time'), queryString(req, 'area'));
    send(res, data);
  });
  return router;
}
