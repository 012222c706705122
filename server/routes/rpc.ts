// PostgREST-style calls: the JSON keys are the SQL parameter names, results are plain JSON.
import { Router } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf, requireRestaurant } from '../auth';
import { refusal } from '../errors';
import { queryString } from './legacy';

type Schemas = components['schemas'];

export function rpcRoutes(queries: Queries): Router {
  const router = Router();

  router.post('/book_table', async (req, res) => {
    const args = req.body as Schemas['RpcBookTable'];
    requireRestaurant(res, args.restaurant_id);
    const header = req.get('Idempotency-Key') ?? null;
    if (header !== null && args.idempotency_key != null && header !== args.idempotency_key) {
      throw refusal(400, 'invalid_request', 'The Idempotency-Key header and the idempotency_key argument differ.', 'idempotency_key_mismatch', 'Send the key once, or the same key in both.');
    }
    res.json(await queries.rpcBookTable(actorOf(res, 'rpc'), args, args.idempotency_key ?? header));
  });

  router.post('/upsert_client', async (req, res) => {
    const args = req.body as Schemas['RpcUpsertClient'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcUpsertClient(actorOf(res, 'rpc'), args));
  });

  router.post('/cancel_reservation', async (req, res) => {
    const args = req.body as Schemas['RpcCancelReservation'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcCancelReservation(actorOf(res, 'rpc'), args));
  });

  router.post('/reschedule_reservation', async (req, res) => {
    const args = req.body as Schemas['RpcRescheduleReservation'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcRescheduleReservation(actorOf(res, 'rpc'), args));
  });

  router.post('/set_reservation_status', async (req, res) => {
    const args = req.body as Schemas['RpcSetReservationStatus'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcSetReservationStatus(actorOf(res, 'rpc'), args));
  });

  router.get('/available_table_counts', async (req, res) => {
    const restaurantId = requireRestaurant(res, Number(req.query.restaurant_id));
    res.json(await queries.tableCounts(restaurantId, String(req.query.day), Number(req.query.guests), queryString(req, 'area')));
  });

  router.post('/available_table_counts', async (req, res) => {
    const args = req.body as Schemas['RpcAvailableTableCounts'];
    res.json(await queries.tableCounts(requireRestaurant(res, args.restaurant_id), args.day, args.guests, args.area ?? null));
  });

  return router;
}
