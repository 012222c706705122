// What the query modules share: the JSON the API answers with, built in SQL (so TypeScript never
// reshapes rows), and the two ways a statement runs (a read, or a booking function called as an
// actor in one statement).
import type { Actor, Database, Json } from '../db';

const reservationFields = (r: string, start: 'starts_at' | 'date') => `
  'id', ${r}.id, 'restaurant_id', ${r}.restaurant_id, 'table_id', ${r}.table_id, 'combination_id', ${r}.combination_id,
  'tables', booking.held_tables(${r}.restaurant_id, ${r}.id), 'client_id', ${r}.client_id,
  '${start}', ${r}.starts_at, 'ends_at', ${r}.ends_at, 'guests', ${r}.guests, 'status', ${r}.status,
  'hold_expires_at', ${r}.hold_expires_at, 'notes', ${r}.notes, 'created_at', ${r}.created_at, 'updated_at', ${r}.updated_at`;
// The /rpc shape lives in SQL (webhooks carry the same document).
export const rpcReservation = (r: string) => `booking.reservation_document(${r})`;
export const legacyReservation = (r: string) => `json_build_object(${reservationFields(r, 'date')})`;
export const legacyBooking = (r: string) => `
  select json_build_object('reservation', ${legacyReservation('r')},
                           'table', json_build_object('id', t.id, 'name', t.name, 'capacity', t.capacity)) as data
  from ${r} r join booking.tables t on t.restaurant_id = r.restaurant_id and t.id = r.table_id`;
export const clientJson = (c: string) => `json_build_object('id', ${c}.id, 'restaurant_id', ${c}.restaurant_id, 'email', ${c}.email,
  'name', ${c}.name, 'phone', ${c}.phone, 'notes', ${c}.notes, 'created_at', ${c}.created_at, 'updated_at', ${c}.updated_at)`;
export const reservationAs = (json: (r: string) => string) => (called: string) => `select ${json('r')} as data from ${called} r`;
export const clientAs = (called: string) => `select ${clientJson('c')} as data from ${called} c`;

// The contract's maxItems of the reservation, history and waitlist lists: a response never grows without bound.
export const MAX_LISTED = 1000;

export type ClientInput = { email: string; name?: string; phone?: string };

export function statements(db: Database) {
  const one = async (sql: string, params: unknown[]): Promise<Json | null> =>
    ((await db.read<{ data: Json | null }>(sql, params))[0]?.data ?? null);
  const change = async (actor: Actor, fn: string, args: [number, ...unknown[]], shape: (called: string) => string): Promise<Json> =>
    (await db.call<{ data: Json }>(actor, fn, args, shape)).data;
  /**
   * Upserts `client` and calls `fn` with the arguments built from the guest's id, in one
   * transaction: a refused call leaves no new guest.
   */
  const withUpsertedClient = async (actor: Actor, restaurantId: number, client: ClientInput, fn: string, args: (clientId: number) => unknown[], shape: (called: string) => string) => {
    // On Citus the answer is shaped after the commit, from the rows the call returned (Database.rowType).
    const citus = await db.isCitus();
    const result = await db.transaction(actor, async (tx) => {
      const upserted = await tx.query<{ id: string }>('select id from booking.upsert_client($1, $2, $3, $4)', [
        restaurantId,
        client.email,
        client.name ?? null,
        client.phone ?? null,
      ]);
      const values = args(Number(upserted.rows[0]!.id));
      if (citus) return (await tx.query<{ rows: unknown }>(db.rowsOf(fn, values.length), values)).rows[0]!.rows;
      const placeholders = values.map((_, i) => `$${i + 1}`).join(', ');
      const { rows } = await tx.query<{ data: Json }>(`with r as (select * from booking.${fn}(${placeholders})) ${shape('r')}`, values);
      return rows[0]!.data;
    });
    return citus ? (await db.shapeRows<{ data: Json }>(fn, result, shape)).data : (result as Json);
  };
  return { one, change, withUpsertedClient };
}
