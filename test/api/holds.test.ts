// Holds through HTTP: a table kept while the guest decides, answered like a booking, confirmed
// (with an inline guest in the same transaction, or a client_id), released, or left to lapse.
import { startTestApi, tenant, count, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
let rival: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  // Two four-tops: one hold leaves one table.
  bistro = await tenant(t.db, { tables: [[4, 1], [4, 1]] });
  rival = await tenant(t.db, { name: 'Rival', tables: [[4, 1]] });
});
afterAll(() => t.close());
beforeEach(() => t.db.pool.query('delete from booking.reservations'));

const base = () => `/api/restaurants/${bistro.id}`;
const freeAt = async (time: string, guests = 4) =>
  (await t.api.get(`${base()}/availability?date=${bistro.day}&guests=${guests}&time=${time}`, bistro.key).expect(200)).body.data.tablesAvailable as number;
const hold = async (time: string, extra: object = {}) =>
  (await t.api.post(`${base()}/holds`, bistro.key).send({ date: await bistro.at(time), guests: 4, ...extra }).expect(201)).body.data;

test('a hold answers like a booking, held until hold_expires_at, and availability counts its table as taken', async () => {
  expect(await freeAt('20:00')).toBe(2);
  const before = Date.now();
  const { reservation, table } = await hold('20:00', { hold_minutes: 10 });
  expect(reservation).toMatchObject({ status: 'held', guests: 4, client_id: null, restaurant_id: bistro.id, table_id: table.id });
  const lapses = new Date(reservation.hold_expires_at).getTime();
  expect(lapses).toBeGreaterThan(before + 9 * 60_000);
  expect(lapses).toBeLessThan(Date.now() + 11 * 60_000);
  expect(await freeAt('20:00')).toBe(1);
  const held = await t.api.get(`${base()}/reservations?date=${bistro.day}&status=held`, bistro.key).expect(200);
  expect(held.body.data.reservations.map((r: { id: number }) => r.id)).toEqual([reservation.id]);
  const history = await t.api.get(`${base()}/reservations/${reservation.id}/history`, bistro.key).expect(200);
  expect(history.body.data.events).toMatchObject([{ action: 'held', new_status: 'held', channel: 'api' }]);
});

test('a hold lasts 5 minutes unless told otherwise', async () => {
  const { reservation } = await hold('20:00');
  const minutes = (new Date(reservation.hold_expires_at).getTime() - new Date(reservation.created_at).getTime()) / 60_000;
  expect(minutes).toBeCloseTo(5, 1);
});

test('confirming with an inline client upserts the guest and books the held table in place', async () => {
  const { reservation } = await hold('20:00');
  const res = await t.api
    .post(`${base()}/holds/${reservation.id}/confirm`, bistro.key)
    .send({ client: { name: 'Ana', email: 'ana.hold@example.com', phone: '+34 600 000 000' }, notes: 'birthday' })
    .expect(200);
  const confirmed = res.body.data.reservation;
  const client = await t.db.pool.query('select id from booking.clients where restaurant_id = $1 and email = $2', [bistro.id, 'ana.hold@example.com']);
  expect(confirmed).toMatchObject({
    id: reservation.id,
    table_id: reservation.table_id,
    date: reservation.date,
    status: 'confirmed',
    hold_expires_at: null,
    notes: 'birthday',
    client_id: Number(client.rows[0].id),
  });
  expect(await freeAt('20:00')).toBe(1);
  const history = await t.api.get(`${base()}/reservations/${reservation.id}/history`, bistro.key).expect(200);
  expect(history.body.data.events.map((e: { action: string }) => e.action)).toEqual(['held', 'confirmed']);
  // A retried confirmation answers the reservation again.
  await t.api.post(`${base()}/holds/${reservation.id}/confirm`, bistro.key).expect(200);
});

test('confirming with a client_id names the guest; without a body it just confirms', async () => {
  const guest = await t.db.pool.query<{ id: string }>('select id from booking.upsert_client($1, $2)', [bistro.id, 'known@example.com']);
  const first = await hold('19:00');
  const named = await t.api.post(`${base()}/holds/${first.reservation.id}/confirm`, bistro.key).send({ client_id: Number(guest.rows[0]!.id) }).expect(200);
  expect(named.body.data.reservation).toMatchObject({ status: 'confirmed', client_id: Number(guest.rows[0]!.id) });
  const second = await hold('21:00');
  const bare = await t.api.post(`${base()}/holds/${second.reservation.id}/confirm`, bistro.key).expect(200);
  expect(bare.body.data.reservation).toMatchObject({ status: 'confirmed', client_id: null });
});

test('a refused confirmation with an inline client leaves no new guest', async () => {
  const { reservation } = await hold('20:00');
  await t.api.delete(`${base()}/holds/${reservation.id}`, bistro.key).expect(200);
  const guests = await count(t.db, 'clients');
  const res = await t.api.post(`${base()}/holds/${reservation.id}/confirm`, bistro.key).send({ client: { email: 'ghost.hold@example.com' } }).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'not_held', status: 'released' } });
  expect(await count(t.db, 'clients')).toBe(guests);
});

test('releasing a hold frees its table at once, and releasing it again changes nothing', async () => {
  const { reservation } = await hold('20:00');
  await hold('20:00');
  expect(await freeAt('20:00')).toBe(0);
  const released = await t.api.delete(`${base()}/holds/${reservation.id}`, bistro.key).expect(200);
  expect(released.body.data.reservation).toMatchObject({ id: reservation.id, status: 'released' });
  expect(await freeAt('20:00')).toBe(1);
  const again = await t.api.delete(`${base()}/holds/${reservation.id}`, bistro.key).expect(200);
  expect(again.body.data.reservation.updated_at).toBe(released.body.data.reservation.updated_at);
});

test('a confirmed booking is not a hold: releasing it is 409 not_held', async () => {
  const booked = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 2 }).expect(201);
  const res = await t.api.delete(`${base()}/holds/${booked.body.data.reservation.id}`, bistro.key).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'not_held', status: 'confirmed' } });
});

test('a lapsed hold answers 409 hold_expired with alternatives, and its table can be booked', async () => {
  const { reservation, table } = await hold('20:00', { table_id: bistro.restaurant.tableIds.map(Number)[0] });
  // As a DBA would: the hold's time runs out.
  await t.db.pool.query("update booking.reservations set hold_expires_at = now() - interval '1 minute' where id = $1", [reservation.id]);
  expect(await freeAt('20:00')).toBe(2);
  const res = await t.api.post(`${base()}/holds/${reservation.id}/confirm`, bistro.key).send({ client: { email: 'late@example.com' } }).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'hold_expired', expired_at: expect.any(String) } });
  const alternatives = res.body.error.details.alternatives as Array<{ starts_at: string; local_time: string }>;
  expect(alternatives.length).toBeGreaterThan(0);
  // Its own time is still free, so it is among them.
  expect(alternatives.map((a) => new Date(a.starts_at).toISOString())).toContain(await bistro.at('20:00'));
  const booked = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 4, table_id: table.id }).expect(201);
  expect(booked.body.data.table.id).toBe(table.id);
  const lapsed = await t.api.get(`${base()}/reservations/${reservation.id}`, bistro.key).expect(200);
  expect(lapsed.body.data.reservation).toMatchObject({ status: 'expired', hold_expires_at: expect.any(String) });
  const rpc = await t.api.post('/rpc/confirm_hold', bistro.key).send({ restaurant_id: bistro.id, reservation_id: reservation.id }).expect(409);
  expect(rpc.body.details.reason).toBe('hold_expired');
});

test('a hold on a full slot is refused like a booking, with alternatives', async () => {
  await hold('20:00');
  await hold('20:00');
  const res = await t.api.post(`${base()}/holds`, bistro.key).send({ date: await bistro.at('20:00'), guests: 4 }).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'all_tables_taken' } });
  expect(res.body.error.details.alternatives.length).toBeGreaterThan(0);
  const offGrid = await t.api.post(`${base()}/holds`, bistro.key).send({ date: await bistro.at('20:05'), guests: 4 }).expect(422);
  expect(offGrid.body.error.details.reason).toBe('off_grid');
});

test('a retried hold with the same Idempotency-Key returns the first hold; another body with it is 409', async () => {
  const body = { date: await bistro.at('20:00'), guests: 4, hold_minutes: 10 };
  const first = await t.api.post(`${base()}/holds`, bistro.key).set('Idempotency-Key', 'hold-1').send(body).expect(201);
  const replay = await t.api.post(`${base()}/holds`, bistro.key).set('Idempotency-Key', 'hold-1').send(body).expect(201);
  expect(replay.body.data.reservation.id).toBe(first.body.data.reservation.id);
  expect(await freeAt('20:00')).toBe(1);
  const other = await t.api.post(`${base()}/holds`, bistro.key).set('Idempotency-Key', 'hold-1').send({ ...body, hold_minutes: 5 }).expect(409);
  expect(other.body.error.details.reason).toBe('idempotency_key_reused');
});

test('/rpc/hold_table, confirm_hold and release_hold take the SQL parameter names and answer the plain reservation', async () => {
  const args = { restaurant_id: bistro.id, starts_at: await bistro.at('20:00'), guests: 4, hold_minutes: 3, idempotency_key: 'rpc-hold-1' };
  const held = await t.api.post('/rpc/hold_table', bistro.key).send(args).expect(200);
  expect(held.body).toMatchObject({ status: 'held', idempotency_key: 'rpc-hold-1', hold_expires_at: expect.any(String) });
  const replay = await t.api.post('/rpc/hold_table', bistro.key).set('Idempotency-Key', 'rpc-hold-1').send({ ...args, idempotency_key: undefined }).expect(200);
  expect(replay.body.id).toBe(held.body.id);
  const mismatch = await t.api.post('/rpc/hold_table', bistro.key).set('Idempotency-Key', 'other').send(args).expect(400);
  expect(mismatch.body.details.reason).toBe('idempotency_key_mismatch');
  const guest = await t.db.pool.query<{ id: string }>('select id from booking.upsert_client($1, $2)', [bistro.id, 'rpc.hold@example.com']);
  const confirmed = await t.api
    .post('/rpc/confirm_hold', bistro.key)
    .send({ restaurant_id: bistro.id, reservation_id: held.body.id, client_id: Number(guest.rows[0]!.id), notes: 'terrace if warm' })
    .expect(200);
  expect(confirmed.body).toMatchObject({ id: held.body.id, status: 'confirmed', hold_expires_at: null, notes: 'terrace if warm', client_id: Number(guest.rows[0]!.id) });
  const other = await t.api.post('/rpc/hold_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: await bistro.at('21:00'), guests: 2 }).expect(200);
  const released = await t.api.post('/rpc/release_hold', bistro.key).send({ restaurant_id: bistro.id, reservation_id: other.body.id }).expect(200);
  expect(released.body).toMatchObject({ id: other.body.id, status: 'released' });
  const history = await t.api.get(`${base()}/reservations/${other.body.id}/history`, bistro.key).expect(200);
  expect(history.body.data.events.map((e: { action: string; channel: string }) => `${e.action}/${e.channel}`)).toEqual(['held/rpc', 'released/rpc']);
});

test('hold_minutes outside 1 to 30 is a 400 naming the field, on both routes', async () => {
  const date = await bistro.at('20:00');
  for (const minutes of [0, 31]) {
    const legacy = await t.api.post(`${base()}/holds`, bistro.key).send({ date, guests: 2, hold_minutes: minutes }).expect(400);
    expect(legacy.body.error.message).toContain('hold_minutes');
    const rpc = await t.api.post('/rpc/hold_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: date, guests: 2, hold_minutes: minutes }).expect(400);
    expect(rpc.body.message).toContain('hold_minutes');
  }
  expect(await count(t.db, 'reservations')).toBe(0);
});

test('confirming with both client and client_id is a 400', async () => {
  const { reservation } = await hold('20:00');
  await t.api.post(`${base()}/holds/${reservation.id}/confirm`, bistro.key).send({ client_id: 1, client: { email: 'both@example.com' } }).expect(400);
});

test("another restaurant's key gets 403; another restaurant's hold under one's own restaurant is 404", async () => {
  const theirs = (await t.api.post(`/api/restaurants/${rival.id}/holds`, rival.key).send({ date: await rival.at('20:00'), guests: 2 }).expect(201)).body.data.reservation;
  await t.api.post(`/api/restaurants/${rival.id}/holds`, bistro.key).send({ date: await rival.at('21:00'), guests: 2 }).expect(403);
  await t.api.post(`/api/restaurants/${rival.id}/holds/${theirs.id}/confirm`, bistro.key).expect(403);
  await t.api.delete(`/api/restaurants/${rival.id}/holds/${theirs.id}`, bistro.key).expect(403);
  await t.api.post('/rpc/hold_table', bistro.key).send({ restaurant_id: rival.id, starts_at: await rival.at('21:00'), guests: 2 }).expect(403);
  await t.api.post('/rpc/confirm_hold', bistro.key).send({ restaurant_id: rival.id, reservation_id: theirs.id }).expect(403);
  await t.api.post('/rpc/release_hold', bistro.key).send({ restaurant_id: rival.id, reservation_id: theirs.id }).expect(403);
  const confirm = await t.api.post(`${base()}/holds/${theirs.id}/confirm`, bistro.key).expect(404);
  expect(confirm.body.error.details.reason).toBe('reservation_not_found');
  await t.api.delete(`${base()}/holds/${theirs.id}`, bistro.key).expect(404);
  await t.api.post('/rpc/release_hold', bistro.key).send({ restaurant_id: bistro.id, reservation_id: theirs.id }).expect(404);
  const still = await t.db.pool.query('select status from booking.reservations where id = $1', [theirs.id]);
  expect(still.rows[0].status).toBe('held');
});
