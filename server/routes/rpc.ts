// PostgREST-style calls: the JSON keys are the SQL parameter names, results are plain JSON.
import { Router, type Request } from 'express';
import type { Actor, Json, Queries } from '../db';
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
  /** POST /rpc/{name}: the JSON body is the function's arguments, for the key's own restaurant. */
  const post = <A extends { restaurant_id: number }>(name: string, run: (actor: Actor, args: A, req: Request) => Promise<Json>) =>
    router.post(`/${name}`, async (req, res) => {
      const args = req.body as A;
      requireRestaurant(res, args.restaurant_id);
      res.json(await run(actorOf(res, 'rpc'), args, req));
    });

  post<Schemas['RpcBookTable']>('book_table', (actor, a, req) => queries.rpcBookTable(actor, a, idempotencyKeyOf(req, a.idempotency_key)));
  post<Schemas['RpcHoldTable']>('hold_table', (actor, a, req) => queries.rpcHoldTable(actor, a, idempotencyKeyOf(req, a.idempotency_key)));
  post<Schemas['RpcConfirmHold']>('confirm_hold', queries.rpcConfirmHold);
  post<Schemas['RpcReleaseHold']>('release_hold', queries.rpcReleaseHold);
  post<Schemas['RpcJoinWaitlist']>('join_waitlist', queries.rpcJoinWaitlist);
  post<Schemas['RpcLeaveWaitlist']>('leave_waitlist', queries.rpcLeaveWaitlist);
  post<Schemas['RpcUpsertClient']>('upsert_client', queries.rpcUpsertClient);
  post<Schemas['RpcCancelReservation']>('cancel_reservation', queries.rpcCancelReservation);
  post<Schemas['RpcRescheduleReservation']>('reschedule_reservation', queries.rpcRescheduleReservation);
  post<Schemas['RpcSetReservationStatus']>('set_reservation_status', queries.rpcSetReservationStatus);

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
