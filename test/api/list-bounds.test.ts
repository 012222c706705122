// The lists the contract bounds with maxItems 1000 stop there: a day's earliest reservations, a
// guest's latest, a reservation's latest events (oldest first). Rows are written as the owner,
// straight into the tables: cancelled reservations take no table time, so 1001 fit one evening.
import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

const LIMIT = 1000;
let t: ApiUnderTest;
let bistro: Tenant;
let clientId: number;
let reservationId: number;
let first: string;

beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
  first = await bistro.at('19:00');
  const pool = t.db.pool;
  clientId = Number((await pool.query('select id from booking.upsert_client($1, $2)', [bistro.id, 'regular@example.com'])).rows[0].id);
  await pool.query(
    `insert into booking.reservations (restaurant_id, table_id, client_id, starts_at, ends_at, guests, status)
     select $1, $2, $3, $4::timestamptz + make_interval(secs => n), $4::timestamptz + interval '1 hour', 2, 'cancelled'
     from generate_series(0, $5) n`,
    [bistro.id, bistro.restaurant.tableIds[0], clientId, first, LIMIT],
  );
  reservationId = Number((await pool.query('select min(id) as id from booking.reservations where restaurant_id = $1', [bistro.id])).rows[0].id);
  await pool.query(
    `insert into booking.reservation_events (restaurant_id, reservation_id, at, action, channel)
     select $1, $2, now() + make_interval(secs => n), 'updated', 'sql' from generate_series(1, $3) n`,
    [bistro.id, reservationId, LIMIT],
  );
});
afterAll(() => t.close());

test("a day's list holds its earliest 1000 reservations", async () => {
  const res = await t.api.get(`/api/restaurants/${bistro.id}/reservations?date=${bistro.day}`, bistro.key).expect(200);
  const { reservations } = res.body.data;
  expect(reservations).toHaveLength(LIMIT);
  expect(new Date(reservations[0].date).toISOString()).toBe(first);
});

test("a guest's list holds the latest 1000", async () => {
  const res = await t.api.get(`/api/restaurants/${bistro.id}/clients/${clientId}/reservations`, bistro.key).expect(200);
  const { reservations } = res.body.data;
  expect(reservations).toHaveLength(LIMIT);
  expect(reservations.map((r: { id: number }) => r.id)).not.toContain(reservationId);
});

test("a reservation's history holds its latest 1000 events, oldest first", async () => {
  const res = await t.api.get(`/api/restaurants/${bistro.id}/reservations/${reservationId}/history`, bistro.key).expect(200);
  const { events } = res.body.data;
  expect(events).toHaveLength(LIMIT);
  expect(events.map((e: { action: string }) => e.action)).not.toContain('created');
  expect(events.map((e: { at: string }) => e.at)).toEqual([...events.map((e: { at: string }) => e.at)].sort());
});
