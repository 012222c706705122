// Two restaurants: each key works on its own restaurant and gets 403, learning nothing, on the
// other's, on every route; an admin key works on both; no or unknown keys get 401.
import { Writable } from 'node:stream';
import { startTestApi, tenant, apiKey, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let mine: Tenant;
let theirs: Tenant;
let theirReservation: number;
let theirClient: number;
const logged: string[] = [];

beforeAll(async () => {
  const log = new Writable({
    write(chunk, _encoding, done) {
      logged.push(String(chunk));
      done();
    },
  });
  t = await startTestApi({ log });
  mine = await tenant(t.db);
  theirs = await tenant(t.db, { name: 'Rival' });
  const booked = await t.api
    .post(`/api/restaurants/${theirs.id}/reservations`, theirs.key)
    .send({ date: await theirs.at('20:00'), guests: 2, client: { email: 'secret@example.com' } })
    .expect(201);
  theirReservation = booked.body.data.reservation.id;
  theirClient = booked.body.data.reservation.client_id;
});
afterAll(() => t.close());

type Call = [method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: (r: number) => string, body?: object];
const routes = (): Call[] => [
  ['get', (r) => `/api/restaurants/${r}/availability?date=${theirs.day}&guests=2`],
  ['post', (r) => `/api/restaurants/${r}/reservations`, { date: '2030-01-01T20:00:00Z', guests: 2 }],
  ['get', (r) => `/api/restaurants/${r}/reservations?date=${theirs.day}`],
  ['get', (r) => `/api/restaurants/${r}/reservations/${theirReservation}`],
  ['patch', (r) => `/api/restaurants/${r}/reservations/${theirReservation}`, { guests: 3 }],
  ['post', (r) => `/api/restaurants/${r}/reservations/${theirReservation}/cancel`],
  ['get', (r) => `/api/restaurants/${r}/reservations/${theirReservation}/history`],
  ['get', (r) => `/api/restaurants/${r}/clients?q=secret`],
  ['post', (r) => `/api/restaurants/${r}/clients`, { email: 'new@example.com' }],
  ['get', (r) => `/api/restaurants/${r}/clients/${theirClient}`],
  ['put', (r) => `/api/restaurants/${r}/clients/${theirClient}`, { name: 'Hacked' }],
  ['delete', (r) => `/api/restaurants/${r}/clients/${theirClient}`],
  ['get', (r) => `/api/restaurants/${r}/clients/${theirClient}/reservations`],
  ['get', (r) => `/rpc/available_table_counts?restaurant_id=${r}&day=${theirs.day}&guests=2`],
  ['post', () => '/rpc/available_table_counts', { day: '2030-01-01', guests: 2 }],
  ['post', () => '/rpc/book_table', { starts_at: '2030-01-01T20:00:00Z', guests: 2 }],
  ['post', () => '/rpc/upsert_client', { email: 'new@example.com' }],
  ['post', () => '/rpc/cancel_reservation', { reservation_id: 1 }],
  ['post', () => '/rpc/reschedule_reservation', { reservation_id: 1, guests: 3 }],
];

function send([method, path, body]: Call, restaurantId: number, key?: string) {
  const withId = body && path(restaurantId).startsWith('/rpc/') ? { restaurant_id: restaurantId, ...body } : body;
  const test = t.api[method](path(restaurantId), key);
  return withId ? test.send(withId) : test;
}

// Named by index: the ids in the paths only exist once beforeAll has run.
const calls = routes().map((_call, index) => index);

test.each(calls)("route %# with another restaurant's key is 403 and reveals nothing", async (index) => {
    const call = routes()[index]!;
    const res = await send(call, theirs.id, mine.key).expect(403);
    const body = res.body.error ?? res.body;
    expect(body.code).toBe('forbidden');
    expect(JSON.stringify(res.body)).not.toMatch(/secret|Rival/);
});

test.each(calls)('route %# without a key, or with an unknown one, is 401 with WWW-Authenticate', async (index) => {
  const call = routes()[index]!;
  const res = await send(call, theirs.id).expect(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  const wrong = await send(call, theirs.id, 'nora_not-a-real-key').expect(401);
  expect(wrong.headers['www-authenticate']).toBe('Bearer');
});

test("nothing of the other restaurant changed", async () => {
  const { rows } = await t.db.pool.query('select name from booking.clients where id = $1', [theirClient]);
  expect(rows[0].name).toBeNull();
  const reservation = await t.db.pool.query('select status, guests from booking.reservations where id = $1', [theirReservation]);
  expect(reservation.rows[0]).toEqual({ status: 'confirmed', guests: 2 });
});

test('an admin key may act for every restaurant', async () => {
  const admin = await apiKey(t.db, null, 'admin');
  await t.api.get(`/api/restaurants/${mine.id}/reservations?date=${mine.day}`, admin).expect(200);
  const res = await t.api.get(`/api/restaurants/${theirs.id}/reservations/${theirReservation}`, admin).expect(200);
  expect(res.body.data.reservation.id).toBe(theirReservation);
});

test("one restaurant's ids under its own path are simply not found", async () => {
  const res = await t.api.get(`/api/restaurants/${mine.id}/reservations/${theirReservation}`, mine.key).expect(404);
  expect(res.body.error.details.reason).toBe('reservation_not_found');
  await t.api.get(`/api/restaurants/${mine.id}/clients/${theirClient}`, mine.key).expect(404);
  const moved = await t.api.post('/rpc/reschedule_reservation', mine.key).send({ restaurant_id: mine.id, reservation_id: theirReservation, guests: 3 }).expect(404);
  expect(moved.body.details.reason).toBe('reservation_not_found');
  await t.api.post('/rpc/cancel_reservation', mine.key).send({ restaurant_id: mine.id, reservation_id: theirReservation }).expect(404);
  await t.api.post('/rpc/book_table', mine.key).send({ restaurant_id: mine.id, starts_at: await mine.at('20:00'), guests: 2, client_id: theirClient }).expect(404);
});

test("a booking under one's own path naming the other restaurant's table is 404 table_not_found and books nothing", async () => {
  const theirTable = Number(theirs.restaurant.tableIds[0]);
  const res = await t.api.post(`/api/restaurants/${mine.id}/reservations`, mine.key).send({ date: await mine.at('21:00'), guests: 2, table_id: theirTable }).expect(404);
  expect(res.body.error.details.reason).toBe('table_not_found');
  const { rows } = await t.db.pool.query<{ n: number }>('select count(*)::int as n from booking.reservations where table_id = $1', [theirTable]);
  expect(rows[0]!.n).toBe(1);
});

test('a revoked key stops working', async () => {
  const key = await apiKey(t.db, String(mine.id), 'temp');
  await t.api.get(`/api/restaurants/${mine.id}/clients`, key).expect(200);
  await t.db.pool.query('select booking.revoke_api_key(key_id) from booking.resolve_api_key($1)', [key]);
  await t.api.get(`/api/restaurants/${mine.id}/clients`, key).expect(401);
});

test('API keys never appear in the logs, though requests are logged', async () => {
  const text = logged.join('');
  expect(text).toMatch(/"req":\{"id":"[0-9a-f-]{36}","method":"GET"/);
  expect(text).not.toContain(mine.key);
  expect(text).not.toContain(theirs.key);
});
