// The statements of the webhook routes (spread into db.ts's queries). Secrets never leave the
// database except in the answer that creates them.
import type { Actor, Database, Json } from '../db';

const endpointJson = (e: string) => `json_build_object('id', ${e}.id, 'restaurant_id', ${e}.restaurant_id, 'url', ${e}.url,
  'events', ${e}.events, 'created_at', ${e}.created_at, 'failing_since', ${e}.failing_since, 'disabled_at', ${e}.disabled_at,
  'disabled_reason', ${e}.disabled_reason)`;

// The contract's maxItems of the list.
const MAX_LISTED = 100;

export function webhookQueries(db: Database) {
  return {
    addWebhookEndpoint: async (actor: Actor, restaurantId: number, url: string, events: string[] | null): Promise<Json> =>
      (
        await db.call<{ data: Json }>(actor, 'add_webhook_endpoint', [restaurantId, url, events], (called) =>
          `select json_build_object('id', e.id, 'restaurant_id', e.restaurant_id, 'url', e.url, 'events', e.events,
                                    'secret', e.secret, 'created_at', e.created_at) as data from ${called} e`,
        )
      ).data,

    removeWebhookEndpoint: async (actor: Actor, restaurantId: number, id: number): Promise<Json> =>
      (await db.call<{ data: Json }>(actor, 'remove_webhook_endpoint', [restaurantId, id], (called) => `select ${endpointJson('e')} as data from ${called} e`))
        .data,

    webhookEndpoints: async (restaurantId: number): Promise<Json | null> =>
      (
        await db.read<{ data: Json }>(
          `select json_build_object('webhooks', coalesce((
                    select json_agg(${endpointJson('e')} order by e.id)
                    from (select * from booking.webhook_endpoints e where e.restaurant_id = r.id order by e.id limit ${MAX_LISTED}) e), '[]')) as data
           from booking.restaurants r where r.id = $1`,
          [restaurantId],
        )
      )[0]?.data ?? null,
  };
}
