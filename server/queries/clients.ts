// Guests: a restaurant's own clients, found, created, changed and forgotten.
import type { Database, Actor } from '../db';
import { legacyReservation, clientJson, clientAs, MAX_LISTED, statements } from './shapes';

export function clientQueries(db: Database) {
  const { one, change } = statements(db);

  return {
    // Keyset pagination on id: stable while guests are added, and one index range per page.
    clientsPage: (restaurantId: number, search: string | null, limit: number, after: number | null) =>
      one(
        `with p as (select '%' || replace(replace(replace($2::text, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%' as pattern),
         page as (
           select c.* from booking.clients c, p
           where c.restaurant_id = $1
             and ($3::bigint is null or c.id > $3)
             and ($2::text is null or c.email ilike p.pattern or c.name ilike p.pattern or c.phone ilike p.pattern)
           order by c.id
           limit $4::int + 1
         ),
         shown as (select * from page order by id limit $4::int)
         select json_build_object(
           'clients', coalesce((select json_agg(${clientJson('shown')} order by shown.id) from shown), '[]'),
           'next_cursor', case when (select count(*) from page) > $4::int then (select max(id) from shown)::text end) as data
         where exists (select 1 from booking.restaurants where id = $1)`,
        [restaurantId, search, after, limit],
      ),

    client: (restaurantId: number, id: number) =>
      one(`select ${clientJson('c')} as data from booking.clients c where c.restaurant_id = $1 and c.id = $2`, [restaurantId, id]),

    clientReservations: (restaurantId: number, id: number) =>
      one(
        `select json_build_object('reservations', coalesce((
                  select json_agg(${legacyReservation('x')} order by x.starts_at desc, x.id desc)
                  from (select * from booking.reservations x
                        where x.restaurant_id = c.restaurant_id and x.client_id = c.id
                        order by x.starts_at desc, x.id desc
                        limit ${MAX_LISTED}) x), '[]')) as data
         from booking.clients c
         where c.restaurant_id = $1 and c.id = $2`,
        [restaurantId, id],
      ),

    createClient: async (actor: Actor, restaurantId: number, c: { email: string; name?: string; phone?: string; notes?: string }) =>
      change(actor, 'create_client', [
        restaurantId,
        c.email,
        c.name ?? null,
        c.phone ?? null,
        c.notes ?? null,
      ], clientAs),

    updateClient: async (actor: Actor, restaurantId: number, id: number, c: { email?: string; name?: string; phone?: string; notes?: string }) =>
      change(actor, 'update_client', [
        restaurantId,
        id,
        c.email ?? null,
        c.name ?? null,
        c.phone ?? null,
        c.notes ?? null,
      ], clientAs),

    deleteClient: async (actor: Actor, restaurantId: number, id: number) =>
      (await db.call<{ outcome: string }>(actor, 'delete_client', [restaurantId, id], (called) => `select delete_client as outcome from ${called}`)).outcome,

    rpcUpsertClient: async (actor: Actor, a: { restaurant_id: number; email: string; name?: string | null; phone?: string | null }) =>
      change(actor, 'upsert_client', [
        a.restaurant_id,
        a.email,
        a.name ?? null,
        a.phone ?? null,
      ], clientAs),
  };
}
