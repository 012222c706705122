// Reservations: booking, moving, cancelling, the host's status changes, reading one, a day's list and a history.
import type { Database, Actor, Json } from '../db';
import { rpcReservation, legacyReservation, legacyBooking, reservationAs, MAX_LISTED, statements } from './shapes';

export function reservationQueries(db: Database) {
  const { one, change, withUpsertedClient } = statements(db);

  return {
    async bookLegacy(
      actor: Actor,
      restaurantId: number,
      booking: { date: string; guests: number; client_id?: number; table_id?: number; combination_id?: number; area?: string; notes?: string },
      client: { email: string; name?: string; phone?: string } | undefined,
      idempotencyKey: string | null,
    ): Promise<Json> {
      const args = (clientId: number | null): [number, ...unknown[]] => [
        restaurantId, booking.date, booking.guests, clientId, booking.table_id ?? null, idempotencyKey, booking.notes ?? null,
        booking.combination_id ?? null, booking.area ?? null,
      ];
      if (!client) return change(actor, 'book_table', args(booking.client_id ?? null), legacyBooking);
      // The guest and the booking in one transaction: a refused booking leaves no new guest.
      return withUpsertedClient(actor, restaurantId, client, 'book_table', args, legacyBooking);
    },

    rescheduleLegacy: async (
      actor: Actor,
      restaurantId: number,
      id: number,
      move: { date?: string; guests?: number; table_id?: number; combination_id?: number; area?: string },
    ) =>
      change(actor, 'reschedule_reservation', [
        restaurantId,
        id,
        move.date ?? null,
        move.guests ?? null,
        move.table_id ?? null,
        move.combination_id ?? null,
        move.area ?? null,
      ], legacyBooking),

    cancelLegacy: async (actor: Actor, restaurantId: number, id: number) =>
      change(actor, 'cancel_reservation', [restaurantId, id], legacyBooking),

    setStatusLegacy: async (actor: Actor, restaurantId: number, id: number, status: string) =>
      change(actor, 'set_reservation_status', [restaurantId, id, status], legacyBooking),

    rpcSetReservationStatus: async (actor: Actor, a: { restaurant_id: number; reservation_id: number; status: string }) =>
      change(actor, 'set_reservation_status', [a.restaurant_id, a.reservation_id, a.status], reservationAs(rpcReservation)),

    reservation: (restaurantId: number, id: number) =>
      one(legacyBooking('(select * from booking.reservations where restaurant_id = $1 and id = $2)'), [restaurantId, id]),

    reservationsOfDay: (restaurantId: number, day: string, status: string | null, clientId: number | null) =>
      one(
        `select json_build_object('reservations', coalesce((
                  select json_agg(${legacyReservation('x')} order by x.starts_at, x.id)
                  from (select * from booking.reservations x
                        where x.restaurant_id = r.id
                          and x.starts_at >= $2::date::timestamp at time zone r.timezone
                          and x.starts_at < ($2::date + 1)::timestamp at time zone r.timezone
                          and ($3::text is null or x.status = $3)
                          and ($4::bigint is null or x.client_id = $4)
                        order by x.starts_at, x.id
                        limit ${MAX_LISTED}) x), '[]')) as data
         from booking.restaurants r
         where r.id = $1`,
        [restaurantId, day, status, clientId],
      ),

    history: (restaurantId: number, id: number) =>
      one(
        // The latest events, oldest first; channel and actor are whatever a DBA's session set, so
        // they are cut to the contract's bounds.
        `select json_build_object('events', coalesce((
                  select json_agg(json_build_object(
                    'id', e.id, 'reservation_id', e.reservation_id, 'at', e.at, 'action', e.action,
                    'old_status', e.old_status, 'new_status', e.new_status, 'old_starts_at', e.old_starts_at,
                    'new_starts_at', e.new_starts_at, 'old_table_id', e.old_table_id, 'new_table_id', e.new_table_id,
                    'old_guests', e.old_guests, 'new_guests', e.new_guests, 'channel', left(e.channel, 64), 'actor', left(e.actor, 100))
                    order by e.at, e.id)
                  from (select * from booking.reservation_events e
                        where e.restaurant_id = r.restaurant_id and e.reservation_id = r.id
                        order by e.at desc, e.id desc
                        limit ${MAX_LISTED}) e), '[]')) as data
         from booking.reservations r
         where r.restaurant_id = $1 and r.id = $2`,
        [restaurantId, id],
      ),

    rpcBookTable: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        starts_at: string;
        guests: number;
        client_id?: number | null;
        table_id?: number | null;
        notes?: string | null;
        combination_id?: number | null;
        area?: string | null;
      },
      idempotencyKey: string | null,
    ) =>
      change(actor, 'book_table', [
        a.restaurant_id,
        a.starts_at,
        a.guests,
        a.client_id ?? null,
        a.table_id ?? null,
        idempotencyKey,
        a.notes ?? null,
        a.combination_id ?? null,
        a.area ?? null,
      ], reservationAs(rpcReservation)),

    rpcCancelReservation: async (actor: Actor, a: { restaurant_id: number; reservation_id: number }) =>
      change(actor, 'cancel_reservation', [a.restaurant_id, a.reservation_id], reservationAs(rpcReservation)),

    rpcRescheduleReservation: async (
      actor: Actor,
      a: {
        restaurant_id: number;
        reservation_id: number;
        starts_at?: string | null;
        guests?: number | null;
        table_id?: number | null;
        combination_id?: number | null;
        area?: string | null;
      },
    ) =>
      change(
        actor,
        'reschedule_reservation',
        [a.restaurant_id, a.reservation_id, a.starts_at ?? null, a.guests ?? null, a.table_id ?? null, a.combination_id ?? null, a.area ?? null],
        reservationAs(rpcReservation),
      ),
  };
}
