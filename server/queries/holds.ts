// Holds: a table kept while the guest decides, confirmed (with an inline guest in the same transaction) or released.
import type { Database, Actor, Json } from '../db';
import { rpcReservation, legacyBooking, reservationAs, statements, type ClientInput } from './shapes';

// booking.hold_table's default hold_minutes, for callers that leave it out.
const DEFAULT_HOLD_MINUTES = 5;

export function holdQueries(db: Database) {
  const { change, withUpsertedClient } = statements(db);

  return {
    holdLegacy: async (
      actor: Actor,
      restaurantId: number,
      hold: { date: string; guests: number; hold_minutes?: number; table_id?: number; area?: string },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'hold_table', [
        restaurantId,
        hold.date,
        hold.guests,
        hold.hold_minutes ?? DEFAULT_HOLD_MINUTES,
        hold.table_id ?? null,
        hold.area ?? null,
        idempotencyKey,
      ], legacyBooking),

    async confirmHoldLegacy(
      actor: Actor,
      restaurantId: number,
      id: number,
      confirm: { client_id?: number; notes?: string },
      client: ClientInput | undefined,
    ): Promise<Json> {
      const args = (clientId: number | null): [number, ...unknown[]] => [restaurantId, id, clientId, confirm.notes ?? null];
      if (!client) return change(actor, 'confirm_hold', args(confirm.client_id ?? null), legacyBooking);
      // The guest and the confirmation in one transaction: a refused confirmation leaves no new guest.
      return withUpsertedClient(actor, restaurantId, client, 'confirm_hold', args, legacyBooking);
    },

    releaseHoldLegacy: async (actor: Actor, restaurantId: number, id: number) =>
      change(actor, 'release_hold', [restaurantId, id], legacyBooking),

    rpcHoldTable: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        starts_at: string;
        guests: number;
        hold_minutes?: number;
        table_id?: number | null;
        area?: string | null;
      },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'hold_table', [
        a.restaurant_id,
        a.starts_at,
        a.guests,
        a.hold_minutes ?? DEFAULT_HOLD_MINUTES,
        a.table_id ?? null,
        a.area ?? null,
        idempotencyKey,
      ], reservationAs(rpcReservation)),

    rpcConfirmHold: async (actor: Actor, a: { restaurant_id: number; reservation_id: number; client_id?: number | null; notes?: string | null }) =>
      change(actor, 'confirm_hold', [a.restaurant_id, a.reservation_id, a.client_id ?? null, a.notes ?? null], reservationAs(rpcReservation)),

    rpcReleaseHold: async (actor: Actor, a: { restaurant_id: number; reservation_id: number }) =>
      change(actor, 'release_hold', [a.restaurant_id, a.reservation_id], reservationAs(rpcReservation)),
  };
}
