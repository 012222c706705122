// The waitlist: joining, leaving and reading it.
import type { Database, Actor } from '../db';
import { MAX_LISTED, statements } from './shapes';

const entryJson = (w: string) => `json_build_object('id', ${w}.id, 'restaurant_id', ${w}.restaurant_id, 'client_id', ${w}.client_id,
  'name', ${w}.name, 'phone', ${w}.phone, 'email', ${w}.email, 'guests', ${w}.guests, 'earliest', ${w}.earliest, 'latest', ${w}.latest,
  'status', ${w}.status, 'reservation_id', ${w}.reservation_id, 'created_at', ${w}.created_at, 'updated_at', ${w}.updated_at)`;
const entryAs = (called: string) => `select ${entryJson('w')} as data from ${called} w`;
const legacyEntryAs = (called: string) => `select json_build_object('entry', ${entryJson('w')}) as data from ${called} w`;

type WaitlistRequest = {
  guests: number;
  earliest: string;
  latest: string;
  client_id?: number | null;
  name?: string | null;
  phone?: string | null;
  email?: string | null;
};

export function waitlistQueries(db: Database) {
  const { one, change } = statements(db);
  const join = (actor: Actor, restaurantId: number, w: WaitlistRequest, shape: (called: string) => string) =>
    change(actor, 'join_waitlist', [
      restaurantId,
      w.guests,
      w.earliest,
      w.latest,
      w.client_id ?? null,
      w.name ?? null,
      w.phone ?? null,
      w.email ?? null,
    ], shape);

  return {
    joinWaitlist: async (actor: Actor, restaurantId: number, w: WaitlistRequest) => join(actor, restaurantId, w, legacyEntryAs),

    leaveWaitlist: async (actor: Actor, restaurantId: number, id: number) => change(actor, 'leave_waitlist', [restaurantId, id], legacyEntryAs),

    waitlistEntry: (restaurantId: number, id: number) =>
      one(`select json_build_object('entry', ${entryJson('w')}) as data from booking.waitlist w where w.restaurant_id = $1 and w.id = $2`, [restaurantId, id]),

    waitlist: (restaurantId: number, status: string | null) =>
      one(
        // The latest entries, in queue order (oldest first, the order offers are made in).
        `select json_build_object('entries', coalesce((
                  select json_agg(${entryJson('w')} order by w.created_at, w.id)
                  from (select * from booking.waitlist w
                        where w.restaurant_id = r.id and ($2::text is null or w.status = $2)
                        order by w.created_at desc, w.id desc
                        limit ${MAX_LISTED}) w), '[]')) as data
         from booking.restaurants r
         where r.id = $1`,
        [restaurantId, status],
      ),

    rpcJoinWaitlist: async (actor: Actor, a: { restaurant_id: number } & WaitlistRequest) => join(actor, a.restaurant_id, a, entryAs),

    rpcLeaveWaitlist: async (actor: Actor, a: { restaurant_id: number; waitlist_id: number }) =>
      change(actor, 'leave_waitlist', [a.restaurant_id, a.waitlist_id], entryAs),
  };
}
