import { startTestApi, tenant, count, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db, { tables: [[4, 1], [4, 1], [2, 1]] });
});
afterAll(() => t.close());

const base = () => `/api/restaurants/${bistro.id}`;

type Alternative = { starts_at: string; local_time: string; tables_available: number };
/** Alternatives with their instants as ISO strings (the API writes them with an offset). */
const instants = (alternatives: Alternative[]) => alternatives.map((a) => ({ ...a, starts_at: new Date(a.starts_at).toISOString() }));

test('availability lists the day, the free times, and the count at a requested time', async () => {
  const res = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=4&time=20:00`, bistro.key).expect(200);
  expect(res.body.success).toBe(true);
  expect(res.body.data.availableSlots).toContain('20:00');
  expect(res.body.data.tablesAvailable).toBe(2);
  const slot = res.body.data.slots.find((s: { time: string }) => s.time === '20:00');
  expect(new Date(slot.startsAt).toISOString()).toBe(await bistro.at('20:00'));
  const offGrid = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=4&time=20:07`, bistro.key).expect(200);
  expect(offGrid.body.data.tablesAvailable).toBe(0);
  const whole = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=2`, bistro.key).expect(200);
  expect(whole.body.data.tablesAvailable).toBe(3);
});

test('availability refuses a party the restaurant does not take with 422', async () => {
  const small = await tenant(t.db, { maxGuests: 6 });
  const res = await t.api.get(`/api/restaurants/${small.id}/availability?date=${small.day}&guests=8`, small.key).expect(422);
  expect(res.body.error.details.reason).toBe('party_too_large');
});

test('booking with an inline client upserts the guest and returns the reservation and its table', async () => {
  const res = await t.api
    .post(`${base()}/reservations`, bistro.key)
    .send({ date: await bistro.at('13:00'), guests: 3, client: { name: 'Ana', email: 'ana@example.com', phone: '+34 600 000 000' }, notes: 'window' })
    .expect(201);
  const { reservation, table } = res.body.data;
  expect(reservation).toMatchObject({ guests: 3, status: 'confirmed', notes: 'window', restaurant_id: bistro.id });
  expect(new Date(reservation.date).toISOString()).toBe(await bistro.at('13:00'));
  expect(table).toMatchObject({ id: reservation.table_id, capacity: 4 });
  const client = await t.db.pool.query('select id, name from booking.clients where email = $1', ['ana@example.com']);
  expect(Number(client.rows[0].id)).toBe(reservation.client_id);
  const again = await t.api
    .post(`${base()}/reservations`, bistro.key)
    .send({ date: await bistro.at('16:00'), guests: 2, client: { email: 'ANA@example.com' } })
    .expect(201);
  expect(again.body.data.reservation.client_id).toBe(reservation.client_id);
});

test('a refused booking rolls back the inline client upsert', async () => {
  const before = await count(t.db, 'clients');
  const res = await t.api
    .post(`${base()}/reservations`, bistro.key)
    .send({ date: await bistro.at('20:05'), guests: 2, client: { email: 'ghost@example.com' } })
    .expect(422);
  expect(res.body).toMatchObject({ success: false, error: { code: 'PT422', details: { reason: 'off_grid' } } });
  expect(res.body.error.hint).toMatch(/slot grid/);
  expect(await count(t.db, 'clients')).toBe(before);
});

test('a retry with the same Idempotency-Key returns the first reservation; another body with it is 409', async () => {
  const body = { date: await bistro.at('14:00'), guests: 2 };
  const first = await t.api.post(`${base()}/reservations`, bistro.key).set('Idempotency-Key', 'call-1').send(body).expect(201);
  const before = await count(t.db, 'reservations');
  const replay = await t.api.post(`${base()}/reservations`, bistro.key).set('Idempotency-Key', 'call-1').send(body).expect(201);
  expect(replay.body.data.reservation.id).toBe(first.body.data.reservation.id);
  expect(await count(t.db, 'reservations')).toBe(before);
  const other = await t.api.post(`${base()}/reservations`, bistro.key).set('Idempotency-Key', 'call-1').send({ ...body, guests: 3 }).expect(409);
  expect(other.body.error).toMatchObject({ code: '23505', details: { reason: 'idempotency_key_reused' } });
});

test('a full slot answers 409 with the nearest free alternatives', async () => {
  // Its own restaurant: two four-tops and a two-top the party of four cannot take.
  const own = await tenant(t.db, { tables: [[4, 1], [4, 1], [2, 1]] });
  const path = `/api/restaurants/${own.id}/reservations`;
  const at = await own.at('18:00');
  await t.api.post(path, own.key).send({ date: at, guests: 4 }).expect(201);
  await t.api.post(path, own.key).send({ date: at, guests: 4 }).expect(201);
  const res = await t.api.post(path, own.key).send({ date: at, guests: 4 }).expect(409);
  expect([res.body.error.code, res.body.error.details.reason]).toEqual(['PT409', 'all_tables_taken']);
  // Both four-tops are blocked [18:00, 19:45): the nearest starts whose 90 + 15 minutes fit, nearest first.
  const expected = [['16:15', 2], ['19:45', 2], ['16:00', 2], ['20:00', 2], ['15:45', 2]] as const;
  expect(instants(res.body.error.details.alternatives)).toEqual(
    await Promise.all(expected.map(async ([time, tables]) => ({ starts_at: await own.at(time), local_time: time, tables_available: tables }))),
  );
});

test('unknown client or table ids are 404 with their reason', async () => {
  const at = await bistro.at('15:00');
  const client = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: at, guests: 2, client_id: 999999 }).expect(404);
  expect(client.body.error.details.reason).toBe('client_not_found');
  const table = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: at, guests: 2, table_id: 999999 }).expect(404);
  expect(table.body.error.details.reason).toBe('table_not_found');
});

test('a reservation can be read, listed for its day, moved, cancelled, and its history shows channel and key label', async () => {
  const made = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('21:00'), guests: 2 }).expect(201);
  const id = made.body.data.reservation.id;
  const read = await t.api.get(`${base()}/reservations/${id}`, bistro.key).expect(200);
  expect(read.body.data.reservation.id).toBe(id);

  const listed = await t.api.get(`${base()}/reservations?date=${bistro.day}&status=confirmed`, bistro.key).expect(200);
  expect(listed.body.data.reservations.map((r: { id: number }) => r.id)).toContain(id);
  const cancelledOnly = await t.api.get(`${base()}/reservations?date=${bistro.day}&status=cancelled`, bistro.key).expect(200);
  expect(cancelledOnly.body.data.reservations).toEqual([]);

  const moved = await t.api.patch(`${base()}/reservations/${id}`, bistro.key).send({ date: await bistro.at('21:30'), guests: 3 }).expect(200);
  expect(moved.body.data.reservation.guests).toBe(3);
  expect(new Date(moved.body.data.reservation.date).toISOString()).toBe(await bistro.at('21:30'));

  const cancelled = await t.api.post(`${base()}/reservations/${id}/cancel`, bistro.key).expect(200);
  expect(cancelled.body.data.reservation.status).toBe('cancelled');
  await t.api.post(`${base()}/reservations/${id}/cancel`, bistro.key).expect(200);

  const notMovable = await t.api.patch(`${base()}/reservations/${id}`, bistro.key).send({ guests: 2 }).expect(409);
  expect(notMovable.body.error.details.reason).toBe('not_movable');

  const history = await t.api.get(`${base()}/reservations/${id}/history`, bistro.key).expect(200);
  expect(history.body.data.events.map((e: { action: string }) => e.action)).toEqual(['created', 'moved', 'cancelled']);
  expect(history.body.data.events.every((e: { channel: string; actor: string }) => e.channel === 'api' && e.actor === 'assistant')).toBe(true);
});

test('a seated reservation cannot be cancelled (409 not_cancellable)', async () => {
  const made = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('22:00'), guests: 2 }).expect(201);
  const id = made.body.data.reservation.id;
  await t.db.pool.query("select booking.set_reservation_status($1, $2, 'seated')", [bistro.id, id]);
  const res = await t.api.post(`${base()}/reservations/${id}/cancel`, bistro.key).expect(409);
  expect(res.body.error.details.reason).toBe('not_cancellable');
});

test('moving to a taken slot is 409 with alternatives and leaves the reservation as it was', async () => {
  // Its own restaurant, so the alternatives depend on nothing another test booked.
  const own = await tenant(t.db, { tables: [[4, 1], [4, 1]] });
  const path = `/api/restaurants/${own.id}/reservations`;
  const at = await own.at('15:00');
  await t.api.post(path, own.key).send({ date: at, guests: 4 }).expect(201);
  await t.api.post(path, own.key).send({ date: at, guests: 4 }).expect(201);
  const other = await t.api.post(path, own.key).send({ date: await own.at('22:15'), guests: 4 }).expect(201);
  const res = await t.api.patch(`${path}/${other.body.data.reservation.id}`, own.key).send({ date: at }).expect(409);
  expect([res.body.error.code, res.body.error.details.reason]).toEqual(['PT409', 'all_tables_taken']);
  // Both tables are blocked [15:00, 16:45); the reservation being moved blocks nothing it could move to.
  const expected = [['13:15', 2], ['16:45', 2], ['13:00', 2], ['17:00', 2], ['12:45', 2]] as const;
  expect(instants(res.body.error.details.alternatives)).toEqual(
    await Promise.all(expected.map(async ([time, tables]) => ({ starts_at: await own.at(time), local_time: time, tables_available: tables }))),
  );
  const still = await t.api.get(`${path}/${other.body.data.reservation.id}`, own.key).expect(200);
  expect(still.body.data.reservation).toEqual(other.body.data.reservation);
});

test('missing reservations and restaurants are 404', async () => {
  const missing = await t.api.get(`${base()}/reservations/999999`, bistro.key).expect(404);
  expect(missing.body.error.details.reason).toBe('reservation_not_found');
  await t.api.get(`${base()}/reservations/999999/history`, bistro.key).expect(404);
  await t.api.post(`${base()}/reservations/999999/cancel`, bistro.key).expect(404);
  await t.api.patch(`${base()}/reservations/999999`, bistro.key).send({ guests: 2 }).expect(404);
});

test('a table can be asked for when booking and when moving; one that does not fit the party is 422', async () => {
  const own = await tenant(t.db, { tables: [[4, 1], [2, 1]] });
  const [big, small] = own.restaurant.tableIds.map(Number);
  const path = `/api/restaurants/${own.id}/reservations`;
  const made = await t.api.post(path, own.key).send({ date: await own.at('20:00'), guests: 2, table_id: big }).expect(201);
  expect(made.body.data.table.id).toBe(big);
  const id = made.body.data.reservation.id;
  const moved = await t.api.patch(`${path}/${id}`, own.key).send({ table_id: small }).expect(200);
  expect(moved.body.data).toMatchObject({ reservation: { table_id: small }, table: { id: small, capacity: 2 } });
  const tooSmall = await t.api.patch(`${path}/${id}`, own.key).send({ guests: 3, table_id: small }).expect(422);
  expect(tooSmall.body.error.details.reason).toBe('table_does_not_fit');
});

test("a day's list filtered by client_id holds exactly that guest's reservations", async () => {
  const own = await tenant(t.db);
  const booked = async (email: string, time: string) =>
    (await t.api.post(`/api/restaurants/${own.id}/reservations`, own.key).send({ date: await own.at(time), guests: 2, client: { email } }).expect(201))
      .body.data.reservation as { id: number; client_id: number };
  const first = await booked('first@example.com', '13:00');
  const again = await booked('first@example.com', '20:00');
  await booked('second@example.com', '13:00');
  const listed = await t.api.get(`/api/restaurants/${own.id}/reservations?date=${own.day}&client_id=${first.client_id}`, own.key).expect(200);
  expect(listed.body.data.reservations.map((r: { id: number }) => r.id)).toEqual([first.id, again.id]);
  const nobody = await t.api.get(`/api/restaurants/${own.id}/reservations?date=${own.day}&client_id=999999`, own.key).expect(200);
  expect(nobody.body.data.reservations).toEqual([]);
});
