import { startTestApi, tenant, count, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db, { tables: [[4, 1], [2, 1]] }, "O'Hara's bot");
});
afterAll(() => t.close());

test('available_table_counts answers the same by GET and POST, as plain JSON', async () => {
  const got = await t.api.get(`/rpc/available_table_counts?restaurant_id=${bistro.id}&day=${bistro.day}&guests=2`, bistro.key).expect(200);
  const posted = await t.api.post('/rpc/available_table_counts', bistro.key).send({ restaurant_id: bistro.id, day: bistro.day, guests: 2 }).expect(200);
  expect(got.body).toEqual(posted.body);
  expect(got.body[0]).toEqual({ starts_at: expect.any(String), local_time: '12:00', tables_available: 2 });
});

test('book_table books, replays an idempotency key from the argument or the header, and refuses a reused key', async () => {
  const args = { restaurant_id: bistro.id, starts_at: await bistro.at('20:00'), guests: 2, idempotency_key: 'rpc-1' };
  const first = await t.api.post('/rpc/book_table', bistro.key).send(args).expect(200);
  expect(first.body).toMatchObject({ guests: 2, status: 'confirmed', idempotency_key: 'rpc-1' });
  const replay = await t.api.post('/rpc/book_table', bistro.key).set('Idempotency-Key', 'rpc-1').send({ ...args, idempotency_key: undefined }).expect(200);
  expect(replay.body.id).toBe(first.body.id);
  const reused = await t.api.post('/rpc/book_table', bistro.key).send({ ...args, guests: 3 }).expect(409);
  expect(reused.body).toMatchObject({ code: '23505', details: { reason: 'idempotency_key_reused' } });
  const both = await t.api.post('/rpc/book_table', bistro.key).set('Idempotency-Key', 'rpc-1').send(args).expect(200);
  expect(both.body.id).toBe(first.body.id);
  const mismatch = await t.api.post('/rpc/book_table', bistro.key).set('Idempotency-Key', 'other').send(args).expect(400);
  expect(mismatch.body).toMatchObject({
    code: 'invalid_request',
    message: 'The Idempotency-Key header and the idempotency_key argument differ.',
    details: { reason: 'idempotency_key_mismatch' },
    hint: 'Send the key once, or the same key in both.',
  });
});

test('book_table on a full slot is 409 with alternatives in the PostgREST error body', async () => {
  const at = await bistro.at('13:00');
  await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: at, guests: 3 }).expect(200);
  const res = await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: at, guests: 3 }).expect(409);
  expect(res.body).toEqual({ code: 'PT409', message: expect.any(String), details: expect.objectContaining({ reason: 'all_tables_taken' }), hint: expect.any(String) });
});

test('upsert_client creates once and then updates by e-mail', async () => {
  const first = await t.api.post('/rpc/upsert_client', bistro.key).send({ restaurant_id: bistro.id, email: 'eva@example.com', name: 'Eva' }).expect(200);
  const second = await t.api.post('/rpc/upsert_client', bistro.key).send({ restaurant_id: bistro.id, email: 'EVA@example.com', phone: '+34 633 000 000', name: null }).expect(200);
  expect(second.body).toMatchObject({ id: first.body.id, name: 'Eva', phone: '+34 633 000 000' });
});

test('reschedule_reservation and cancel_reservation change the booking and record channel rpc', async () => {
  const made = await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: await bistro.at('15:00'), guests: 2 }).expect(200);
  const moved = await t.api
    .post('/rpc/reschedule_reservation', bistro.key)
    .send({ restaurant_id: bistro.id, reservation_id: made.body.id, starts_at: await bistro.at('15:30') })
    .expect(200);
  expect(new Date(moved.body.starts_at).toISOString()).toBe(await bistro.at('15:30'));
  const cancelled = await t.api.post('/rpc/cancel_reservation', bistro.key).send({ restaurant_id: bistro.id, reservation_id: made.body.id }).expect(200);
  expect(cancelled.body.status).toBe('cancelled');
  const { rows } = await t.db.pool.query('select action, channel, actor from booking.reservation_events where reservation_id = $1 order by id', [made.body.id]);
  expect(rows).toEqual([
    { action: 'created', channel: 'rpc', actor: "O'Hara's bot" },
    { action: 'moved', channel: 'rpc', actor: "O'Hara's bot" },
    { action: 'cancelled', channel: 'rpc', actor: "O'Hara's bot" },
  ]);
});

test('rpc refusals map PT404, PT422 and 22023 to 404, 422 and 400', async () => {
  const missing = await t.api.post('/rpc/cancel_reservation', bistro.key).send({ restaurant_id: bistro.id, reservation_id: 999999 }).expect(404);
  expect(missing.body.details.reason).toBe('reservation_not_found');
  const past = await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: '2020-01-01T20:00:00Z', guests: 2 }).expect(422);
  expect(past.body.details.reason).toBe('in_past');
  const made = await t.api.post('/rpc/book_table', bistro.key).send({ restaurant_id: bistro.id, starts_at: await bistro.at('16:00'), guests: 2 }).expect(200);
  const before = await count(t.db, 'reservation_events');
  const tooBig = await t.api.post('/rpc/reschedule_reservation', bistro.key).send({ restaurant_id: bistro.id, reservation_id: made.body.id, guests: 5 }).expect(422);
  expect(tooBig.body.details.reason).toBe('no_table_fits');
  expect(await count(t.db, 'reservation_events')).toBe(before);
});
