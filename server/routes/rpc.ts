// PostgREST-style calls: the JSON keys are the SQL parameter names, results are plain JSON.
import { Router, type Request } from 'express';
import type { Queries } from '../db';
import type { components } from '../api-types';
import { actorOf, requireRestaurant } from '../auth';
import { refusal } from '../errors';
import { queryString } from './legacy';

type Schemas = components['schemas'];

/** The idempotency key, as the argument or the Idempotency-Key header (two different ones: 400). */
function idempotencyKeyOf(req: Request, argument: string | null | undefined): string | null {
  const header = req.get('Idempotency-Key') ?? null;
  if (header !== null && argument != null && header !== argument) {
    throw refusal(400, 'invalid_request', 'The Idempotency-Key header and the idempotency_key argument differ.', 'idempotency_key_mismatch', 'Send the key once, or the same key in both.');
  }
  return argument ?? header;
}

export function rpcRoutes(queries: Queries): Router {
  const router = Router();

  router.post('/book_table', async (req, res) => {
    const args = req.body as Schemas['RpcBookTable'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcBookTable(actorOf(res, 'rpc'), args, idempotencyKeyOf(req, args.idempotency_key)));
  });

  router.post('/hold_table', async (req, res) => {
    const args = req.body as Schemas['RpcHoldTable'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcHoldTable(actorOf(res, 'rpc'), args, idempotencyKeyOf(req, args.idempotency_key)));
  });

  router.post('/confirm_hold', async (req, res) => {
    const args = req.body as Schemas['RpcConfirmHold'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcConfirmHold(actorOf(res, 'rpc'), args));
  });

  router.post('/release_hold', async (req, res) => {
    const args = req.body as Schemas['RpcReleaseHold'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcReleaseHold(actorOf(res, 'rpc'), args));
  });

  router.post('/join_waitlist', async (req, res) => {
    const args = req.body as Schemas['RpcJoinWaitlist'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcJoinWaitlist(actorOf(res, 'rpc'), args));
  });

  router.post('/leave_waitlist', async (req, res) => {
    const args = req.body as Schemas['RpcLeaveWaitlist'];
    requireRestaurant(res, args.restaurant_id);
    res.json(await queries.rpcLeaveWaitlist(actorOf(res, 'rpc'), args));
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
