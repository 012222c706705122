// Issue 3 §4: every kind of bad input gets a clear 4xx in the documented error shape, and
// nothing is written.
import { startTestApi, tenant, count, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
// Empty until beforeAll; the cases are rebuilt inside each test, after it.
let slot = '';
let reservationId: number;
let written: number;

beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
  slot = await bistro.at('20:00');
  const made = await t.api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).send({ date: await bistro.at('13:00'), guests: 2 }).expect(201);
  reservationId = made.body.data.reservation.id;
  written = await everything();
});
afterAll(() => t.close());

async function everything(): Promise<number> {
  return (await count(t.db, 'reservations')) + (await count(t.db, 'clients')) + (await count(t.db, 'reservation_events'));
}

const booking = () => `/api/restaurants/${bistro.id}/reservations`;
const long = (n: number) => 'x'.repeat(n);

type Case = {
  name: string;
  method?: 'post' | 'get' | 'patch' | 'put';
  path?: () => string;
  body?: unknown;
  raw?: string;
  type?: string;
  status: number;
  field?: string;
  /** [code, details.reason] when not the HTTP layer's own for the status (invalid_request, payload_too_large, unsupported_media_type). */
  refusal?: [string, string];
};

const HTTP_LAYER: Record<number, string> = { 400: 'invalid_request', 413: 'payload_too_large', 415: 'unsupported_media_type' };
const expectedRefusal = (c: Case): [string, string] => c.refusal ?? [HTTP_LAYER[c.status]!, HTTP_LAYER[c.status]!];

const cases = (): Case[] => [
  { name: 'malformed JSON', raw: '{"date": "2026-', type: 'application/json', status: 400, refusal: ['invalid_json', 'invalid_json'] },
  { name: 'wrong content type', raw: 'date=2026-12-12&guests=2', type: 'application/x-www-form-urlencoded', status: 415 },
  { name: 'text body', raw: 'hello', type: 'text/plain', status: 415 },
  { name: 'body over the size limit', body: { date: slot, guests: 2, notes: long(40_000) }, status: 413 },
  { name: 'a JSON array instead of an object', body: [{ date: slot, guests: 2 }], status: 400 },
  { name: 'unknown field', body: { date: slot, guests: 2, vip: true }, status: 400, field: 'vip' },
  { name: 'unknown field in the inline client', body: { date: slot, guests: 2, client: { email: 'a@example.com', age: 3 } }, status: 400, field: 'age' },
  { name: 'guests as a string', body: { date: slot, guests: 'four' }, status: 400, field: 'guests' },
  { name: 'guests as a fraction', body: { date: slot, guests: 2.5 }, status: 400, field: 'guests' },
  { name: 'guests 0', body: { date: slot, guests: 0 }, status: 400, field: 'guests' },
  { name: 'guests 21', body: { date: slot, guests: 21 }, status: 400, field: 'guests' },
  { name: 'negative guests', body: { date: slot, guests: -3 }, status: 400, field: 'guests' },
  { name: 'huge guests', body: { date: slot, guests: 1e300 }, status: 400, field: 'guests' },
  { name: 'huge client id', body: { date: slot, guests: 2, client_id: 1e20 }, status: 400, field: 'client_id' },
  { name: 'negative table id', body: { date: slot, guests: 2, table_id: -1 }, status: 400, field: 'table_id' },
  { name: 'date missing', body: { guests: 2 }, status: 400, field: 'date' },
  { name: 'impossible date', body: { date: '2026-02-30T20:00:00+01:00', guests: 2 }, status: 400, field: 'date' },
  { name: 'time without offset', body: { date: slot.replace(/\.\d+Z$|Z$/, ''), guests: 2 }, status: 400, field: 'date' },
  { name: 'date only', body: { date: slot.slice(0, 10), guests: 2 }, status: 400, field: 'date' },
  { name: 'year 10000', body: { date: '10000-01-01T20:00:00Z', guests: 2 }, status: 400, field: 'date' },
  { name: 'far past', body: { date: '1900-01-01T20:00:00Z', guests: 2 }, status: 422, refusal: ['PT422', 'in_past'] },
  { name: 'far future', body: { date: '9999-12-31T20:00:00Z', guests: 2 }, status: 422, refusal: ['PT422', 'beyond_horizon'] },
  { name: 'off-grid time', body: { date: slot.replace(':00:00', ':07:00'), guests: 2 }, status: 422, refusal: ['PT422', 'off_grid'] },
  { name: 'SQL in the date', body: { date: "2026-12-12'; drop table booking.reservations; --", guests: 2 }, status: 400, field: 'date' },
  { name: 'SQL in an e-mail', body: { date: slot, guests: 2, client: { email: "a@b.com'; delete from booking.clients; --" } }, status: 400, field: 'email' },
  { name: 'quoted e-mail local part', body: { date: slot, guests: 2, client: { email: '"jo sé"@ejemplo.es' } }, status: 400, field: 'email' },
  { name: 'e-mail address literal', body: { date: slot, guests: 2, client: { email: 'jose@[10.0.0.1]' } }, status: 400, field: 'email' },
  { name: 'very long e-mail', body: { date: slot, guests: 2, client: { email: `${long(250)}@example.com` } }, status: 400, field: 'email' },
  { name: 'very long name', body: { date: slot, guests: 2, client: { email: 'a@example.com', name: long(201) } }, status: 400, field: 'name' },
  { name: 'phone with letters', body: { date: slot, guests: 2, client: { email: 'a@example.com', phone: 'call me' } }, status: 400, field: 'phone' },
  { name: 'very long notes', body: { date: slot, guests: 2, notes: long(2001) }, status: 400, field: 'notes' },
  { name: 'client and client_id together', body: { date: slot, guests: 2, client_id: 1, client: { email: 'a@example.com' } }, status: 400 },
  { name: 'client id that does not exist', body: { date: slot, guests: 2, client_id: 424242 }, status: 404, refusal: ['PT404', 'client_not_found'] },
  { name: 'table id that does not exist', body: { date: slot, guests: 2, table_id: 424242 }, status: 404, refusal: ['PT404', 'table_not_found'] },
  { name: 'restaurant id not a number', path: () => '/api/restaurants/abc/reservations', body: { date: slot, guests: 2 }, status: 400, field: 'restId' },
  { name: 'restaurant id with SQL', path: () => '/api/restaurants/1;drop%20table%20x/reservations', body: { date: slot, guests: 2 }, status: 400, field: 'restId' },
  { name: 'restaurant id 0', path: () => '/api/restaurants/0/reservations', body: { date: slot, guests: 2 }, status: 400, field: 'restId' },
  { name: 'reservation id not a number', method: 'patch', path: () => `${booking()}/abc`, body: { guests: 2 }, status: 400, field: 'id' },
  { name: 'empty reschedule', method: 'patch', path: () => `${booking()}/${reservationId}`, body: {}, status: 400 },
  { name: 'reschedule to guests 21', method: 'patch', path: () => `${booking()}/${reservationId}`, body: { guests: 21 }, status: 400, field: 'guests' },
  { name: 'reschedule of a reservation that does not exist', method: 'patch', path: () => `${booking()}/424242`, body: { guests: 3 }, status: 404, refusal: ['PT404', 'reservation_not_found'] },
  { name: 'overlong Idempotency-Key', status: 400, body: { date: slot, guests: 2 }, field: 'idempotency-key' },
  { name: 'availability with an impossible day', method: 'get', path: () => `/api/restaurants/${bistro.id}/availability?date=2026-02-30&guests=2`, status: 400, field: 'date' },
  { name: 'availability without guests', method: 'get', path: () => `/api/restaurants/${bistro.id}/availability?date=${bistro.day}`, status: 400, field: 'guests' },
  { name: 'availability with an unknown parameter', method: 'get', path: () => `/api/restaurants/${bistro.id}/availability?date=${bistro.day}&guests=2&debug=1`, status: 400, field: 'debug' },
  { name: 'availability with a bad time', method: 'get', path: () => `/api/restaurants/${bistro.id}/availability?date=${bistro.day}&guests=2&time=25:00`, status: 400, field: 'time' },
  { name: 'list with an unknown status', method: 'get', path: () => `${booking()}?date=${bistro.day}&status=lost`, status: 400, field: 'status' },
  { name: 'client search with a huge limit', method: 'get', path: () => `/api/restaurants/${bistro.id}/clients?limit=100000`, status: 400, field: 'limit' },
  { name: 'client search with a forged cursor', method: 'get', path: () => `/api/restaurants/${bistro.id}/clients?cursor=1%20or%201=1`, status: 400, field: 'cursor' },
  { name: 'an unknown parameter with a 5000-character name (the message quoting it is cut to its bound)', method: 'get', path: () => `/api/restaurants/${bistro.id}/clients?${long(5000)}=1`, status: 400, field: 'query/xxxxxxxxxx' },
  { name: 'client search with a very long query', method: 'get', path: () => `/api/restaurants/${bistro.id}/clients?q=${long(201)}`, status: 400, field: 'q' },
  { name: 'client update with nothing', method: 'put', path: () => `/api/restaurants/${bistro.id}/clients/1`, body: {}, status: 400 },
  { name: 'rpc with a misspelt argument', path: () => '/rpc/book_table', body: { restaurant_id: bistro?.id, startsAt: slot, guests: 2 }, status: 400, field: 'starts_at' },
  { name: 'rpc with a string restaurant id', path: () => '/rpc/book_table', body: { restaurant_id: 'one', starts_at: slot, guests: 2 }, status: 400, field: 'restaurant_id' },
  { name: 'rpc with guests 0', path: () => '/rpc/book_table', body: { restaurant_id: bistro?.id, starts_at: slot, guests: 0 }, status: 400, field: 'guests' },
  { name: 'rpc upsert with a doubled dot in the e-mail', path: () => '/rpc/upsert_client', body: { restaurant_id: bistro?.id, email: 'zo..ë@example.com' }, status: 400, field: 'email' },
  { name: 'rpc counts with an impossible day', method: 'get', path: () => `/rpc/available_table_counts?restaurant_id=${bistro.id}&day=2026-13-01&guests=2`, status: 400, field: 'day' },
  { name: 'rpc malformed JSON', path: () => '/rpc/cancel_reservation', raw: '{"restaurant_id":', type: 'application/json', status: 400, refusal: ['invalid_json', 'invalid_json'] },
  { name: 'unknown route', method: 'get', path: () => '/api/restaurants/1/menu', status: 404, refusal: ['not_found', 'route_not_found'] },
];

test.each(cases().map((c) => [c.name, c] as const))('%s → clear 4xx, nothing written', async (_name, template) => {
  const c = cases().find((x) => x.name === template.name)!;
  const method = c.method ?? 'post';
  let req = t.api[method]((c.path ?? booking)(), bistro.key);
  if (c.name === 'overlong Idempotency-Key') req = req.set('Idempotency-Key', long(300));
  if (c.raw !== undefined) req = req.set('Content-Type', c.type!).send(c.raw);
  else if (c.body !== undefined) req = req.send(c.body as object);
  const res = await req;
  expect(res.status).toBe(c.status);
  // The exact shape: /rpc answers the error body itself, /api wraps it in the legacy envelope.
  const legacy = !(c.path ?? booking)().startsWith('/rpc/');
  expect(Object.keys(res.body).sort()).toEqual(legacy ? ['error', 'success'] : ['code', 'details', 'hint', 'message']);
  const error = legacy ? res.body.error : res.body;
  if (legacy) expect([res.body.success, Object.keys(error).sort()]).toEqual([false, ['code', 'details', 'hint', 'message']]);
  expect([error.code, error.details.reason]).toEqual(expectedRefusal(c));
  expect(error.message).toEqual(expect.any(String));
  if (c.field) expect(error.message.toLowerCase()).toContain(c.field.toLowerCase());
  expect(await everything()).toBe(written);
});

test('SQL-looking text in a name or a search is only data', async () => {
  const name = "Robert'); drop table booking.clients; --";
  const made = await t.api.post(`/api/restaurants/${bistro.id}/clients`, bistro.key).send({ email: 'bobby@example.com', name }).expect(201);
  expect(made.body.data.name).toBe(name);
  const found = await t.api.get(`/api/restaurants/${bistro.id}/clients?q=${encodeURIComponent("'; drop table x; --")}`, bistro.key).expect(200);
  expect(found.body.data.clients).toEqual([]);
  const again = await t.api.get(`/api/restaurants/${bistro.id}/clients?q=${encodeURIComponent('drop table booking')}`, bistro.key).expect(200);
  expect(again.body.data.clients.map((c: { name: string }) => c.name)).toEqual([name]);
});
