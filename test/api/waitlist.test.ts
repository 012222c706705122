// The waitlist through HTTP: a party told "we are full" waits for a window; a freed table is
// offered to it as a hold in the same transaction, confirmed like any hold; leaving gives the
// offer back.
import { startTestApi, tenant, count, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
let rival: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  // One four-top: one booking fills a time.
  bistro = await tenant(t.db, { tables: [[4, 1]] });
  rival = await tenant(t.db, { name: 'Rival', tables: [[4, 1]] });
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.db.pool.query('delete from booking.waitlist');
  await t.db.pool.query('delete from booking.reservations');
});

const base = () => `/api/restaurants/${bistro.id}`;
const windowAt = async (from: string, to = from) => ({ earliest: await bistro.at(from), latest: await bistro.at(to) });
const book = async (time: string) =>
  (await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at(time), guests: 4 }).expect(201)).body.data.reservation;
const join = async (body: object) => (await t.api.post(`${base()}/waitlist`, bistro.key).send(body).expect(201)).body.data.entry;
const entry = async (id: number) => (await t.api.get(`${base()}/waitlist/${id}`, bistro.key).expect(200)).body.data.entry;

test('a party joins a full evening waiting; a cancellation offers it the freed table, and confirming the offer books it', async () => {
  const booking = await book('20:00');
  const waiting = await join({ guests: 2, ...(await windowAt('20:00')), name: 'Ana', phone: '+34 600 000 000' });
  expect(waiting).toMatchObject({ status: 'waiting', reservation_id: null, guests: 2, name: 'Ana', phone: '+34 600 000 000', email: null, client_id: null });
  expect(new Date(waiting.earliest).toISOString()).toBe(await bistro.at('20:00'));

  await t.api.post(`${base()}/reservations/${booking.id}/cancel`, bistro.key).expect(200);
  const offered = await entry(waiting.id);
  expect(offered).toMatchObject({ status: 'offered', reservation_id: expect.any(Number) });
  const hold = (await t.api.get(`${base()}/reservations/${offered.reservation_id}`, bistro.key).expect(200)).body.data.reservation;
  expect(hold).toMatchObject({ status: 'held', guests: 2, date: booking.date, hold_expires_at: expect.any(String) });

  const confirmed = await t.api.post(`${base()}/holds/${hold.id}/confirm`, bistro.key).send({ client: { email: 'ana.wait@example.com', name: 'Ana' } }).expect(200);
  expect(confirmed.body.data.reservation.status).toBe('confirmed');
  expect(await entry(waiting.id)).toMatchObject({ status: 'booked', reservation_id: hold.id });
});

test('confirm_hold through /rpc on an offer marks the entry booked', async () => {
  const booking = await book('20:00');
  const waiting = await join({ guests: 4, ...(await windowAt('19:30', '20:30')), email: 'bo@example.com' });
  await t.api.post('/rpc/cancel_reservation', bistro.key).send({ restaurant_id: bistro.id, reservation_id: booking.id }).expect(200);
  const offered = await entry(waiting.id);
  expect(offered.status).toBe('offered');
  await t.api.post('/rpc/confirm_hold', bistro.key).send({ restaurant_id: bistro.id, reservation_id: offered.reservation_id }).expect(200);
  expect((await entry(waiting.id)).status).toBe('booked');
});

test('a window of up to 7 days is taken', async () => {
  const sevenDays = new Date(Date.parse(await bistro.at('20:00')) + 7 * 86_400_000).toISOString();
  await book('20:00');
  const entry = await join({ guests: 4, earliest: await bistro.at('20:00'), latest: sevenDays, phone: '+34 600 000 000' });
  expect(entry.status).toBe('offered');
});

test('joining when a table fits already is an offer at once', async () => {
  const offered = await join({ guests: 2, ...(await windowAt('21:00', '22:00')), phone: '+34 611 111 111' });
  expect(offered).toMatchObject({ status: 'offered', reservation_id: expect.any(Number) });
  const hold = (await t.api.get(`${base()}/reservations/${offered.reservation_id}`, bistro.key).expect(200)).body.data.reservation;
  expect(new Date(hold.date).toISOString()).toBe(await bistro.at('21:00'));
});

test('leaving releases an offer: the hold is released and its table free again; leaving again changes nothing', async () => {
  const offered = await join({ guests: 4, ...(await windowAt('20:00')), phone: '+34 611 111 111' });
  const availability = async () =>
    (await t.api.get(`${base()}/availability?date=${bistro.day}&guests=4&time=20:00`, bistro.key).expect(200)).body.data.tablesAvailable as number;
  expect(await availability()).toBe(0);
  const left = await t.api.delete(`${base()}/waitlist/${offered.id}`, bistro.key).expect(200);
  expect(left.body.data.entry).toMatchObject({ id: offered.id, status: 'cancelled', reservation_id: null });
  const hold = await t.api.get(`${base()}/reservations/${offered.reservation_id}`, bistro.key).expect(200);
  expect(hold.body.data.reservation.status).toBe('released');
  expect(await availability()).toBe(1);
  const again = await t.api.delete(`${base()}/waitlist/${offered.id}`, bistro.key).expect(200);
  expect(again.body.data.entry).toEqual(left.body.data.entry);
});

test('releasing an offered hold puts its entry back to waiting', async () => {
  const offered = await join({ guests: 4, ...(await windowAt('20:00')), phone: '+34 611 111 111' });
  await t.api.delete(`${base()}/holds/${offered.reservation_id}`, bistro.key).expect(200);
  expect(await entry(offered.id)).toMatchObject({ status: 'waiting', reservation_id: null });
});

test('the list shows entries in queue order, and ?status= filters them', async () => {
  await book('20:00');
  const first = await join({ guests: 2, ...(await windowAt('20:00')), phone: '+34 600 000 001' });
  const second = await join({ guests: 3, ...(await windowAt('20:00')), phone: '+34 600 000 002' });
  const third = await join({ guests: 2, ...(await windowAt('22:00')), phone: '+34 600 000 003' });
  expect(third.status).toBe('offered');
  const all = await t.api.get(`${base()}/waitlist`, bistro.key).expect(200);
  expect(all.body.data.entries.map((e: { id: number }) => e.id)).toEqual([first.id, second.id, third.id]);
  const waiting = await t.api.get(`${base()}/waitlist?status=waiting`, bistro.key).expect(200);
  expect(waiting.body.data.entries.map((e: { id: number }) => e.id)).toEqual([first.id, second.id]);
  const booked = await t.api.get(`${base()}/waitlist?status=booked`, bistro.key).expect(200);
  expect(booked.body.data.entries).toEqual([]);
  await t.api.get(`${base()}/waitlist?status=gone`, bistro.key).expect(400);
});

test('/rpc/join_waitlist and leave_waitlist take the SQL parameter names and answer the plain entry', async () => {
  await book('20:00');
  const guest = await t.db.pool.query<{ id: string }>('select id from booking.upsert_client($1, $2)', [bistro.id, 'rpc.wait@example.com']);
  const joined = await t.api
    .post('/rpc/join_waitlist', bistro.key)
    .send({ restaurant_id: bistro.id, guests: 2, ...(await windowAt('20:00')), client_id: Number(guest.rows[0]!.id), name: null, phone: null, email: null })
    .expect(200);
  expect(joined.body).toMatchObject({ restaurant_id: bistro.id, client_id: Number(guest.rows[0]!.id), status: 'waiting' });
  const left = await t.api.post('/rpc/leave_waitlist', bistro.key).send({ restaurant_id: bistro.id, waitlist_id: joined.body.id }).expect(200);
  expect(left.body).toMatchObject({ id: joined.body.id, status: 'cancelled' });
});

test('bad input is a 400 or 422 naming the problem, and adds nothing', async () => {
  const before = await count(t.db, 'reservations');
  const backwards = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, ...(await windowAt('21:00', '20:00')), phone: '+34 600 000 000' }).expect(400);
  expect(backwards.body.error).toMatchObject({ code: '22023', details: { reason: 'invalid_window', field: 'latest' } });
  expect(backwards.body.error.message).toContain('latest');
  // booking.join_waitlist looks at every day of the window: an endless one is refused before it.
  const endless = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, earliest: await bistro.at('20:00'), latest: '9999-12-31T23:59:59Z', phone: '+34 600 000 000' }).expect(400);
  expect(endless.body.error).toMatchObject({ details: { reason: 'invalid_window', field: 'latest' } });
  expect(endless.body.error.message).toContain('latest');
  const eightDays = new Date(Date.parse(await bistro.at('20:00')) + 8 * 86_400_000).toISOString();
  const rpcEndless = await t.api.post('/rpc/join_waitlist', bistro.key).send({ restaurant_id: bistro.id, guests: 2, earliest: await bistro.at('20:00'), latest: eightDays, phone: '+34 600 000 000' }).expect(400);
  expect(rpcEndless.body.details.reason).toBe('invalid_window');
  const noContact = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, ...(await windowAt('20:00')), name: 'Ana' }).expect(400);
  expect(noContact.body.error.message).toMatch(/client_id|phone|email/);
  const nullContact = await t.api.post('/rpc/join_waitlist', bistro.key).send({ restaurant_id: bistro.id, guests: 2, ...(await windowAt('20:00')), phone: null }).expect(400);
  expect(nullContact.body).toMatchObject({ code: '22023', details: { reason: 'contact_required' } });
  const noGuests = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 0, ...(await windowAt('20:00')), phone: '+34 600 000 000' }).expect(400);
  expect(noGuests.body.error.message).toContain('guests');
  const badPhone = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, ...(await windowAt('20:00')), phone: 'call me' }).expect(400);
  expect(badPhone.body.error.message).toContain('phone');
  const past = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, earliest: '2020-01-01T20:00:00Z', latest: '2020-01-01T21:00:00Z', phone: '+34 600 000 000' }).expect(422);
  expect(past.body.error.details.reason).toBe('in_past');
  const unknownGuest = await t.api.post(`${base()}/waitlist`, bistro.key).send({ guests: 2, ...(await windowAt('20:00')), client_id: 999999 }).expect(404);
  expect(unknownGuest.body.error.details.reason).toBe('client_not_found');
  expect((await t.api.get(`${base()}/waitlist`, bistro.key).expect(200)).body.data.entries).toEqual([]);
  expect(await count(t.db, 'reservations')).toBe(before);
});

test("another restaurant's key gets 403; another restaurant's entry under one's own restaurant is 404", async () => {
  const theirs = (await t.api.post(`/api/restaurants/${rival.id}/waitlist`, rival.key).send({ guests: 2, earliest: await rival.at('20:00'), latest: await rival.at('20:00'), phone: '+34 699 999 999' }).expect(201)).body.data.entry;
  const path = `/api/restaurants/${rival.id}/waitlist`;
  await t.api.post(path, bistro.key).send({ guests: 2, earliest: await rival.at('20:00'), latest: await rival.at('20:00'), phone: '+34 600 000 000' }).expect(403);
  await t.api.get(path, bistro.key).expect(403);
  await t.api.get(`${path}/${theirs.id}`, bistro.key).expect(403);
  await t.api.delete(`${path}/${theirs.id}`, bistro.key).expect(403);
  await t.api.post('/rpc/join_waitlist', bistro.key).send({ restaurant_id: rival.id, guests: 2, earliest: await rival.at('20:00'), latest: await rival.at('20:00'), phone: '+34 600 000 000' }).expect(403);
  await t.api.post('/rpc/leave_waitlist', bistro.key).send({ restaurant_id: rival.id, waitlist_id: theirs.id }).expect(403);
  const read = await t.api.get(`${base()}/waitlist/${theirs.id}`, bistro.key).expect(404);
  expect(read.body.error).toMatchObject({
    code: 'PT404',
    message: 'That waitlist entry does not exist.',
    details: { reason: 'waitlist_entry_not_found' },
    hint: 'Check the waitlist entry id.',
  });
  const leave = await t.api.delete(`${base()}/waitlist/${theirs.id}`, bistro.key).expect(404);
  expect(leave.body.error.details.reason).toBe('waitlist_entry_not_found');
  await t.api.post('/rpc/leave_waitlist', bistro.key).send({ restaurant_id: bistro.id, waitlist_id: theirs.id }).expect(404);
  expect((await t.api.get(`${base()}/waitlist`, bistro.key).expect(200)).body.data.entries).toEqual([]);
  const still = await t.db.pool.query('select status from booking.waitlist where id = $1', [theirs.id]);
  expect(still.rows[0].status).toBe(theirs.status);
});

test('a missing restaurant is 404 for the list', async () => {
  const admin = await t.db.pool.query<{ key: string }>("select booking.create_api_key(null, 'admin') as key");
  const res = await t.api.get('/api/restaurants/999999/waitlist', admin.rows[0]!.key).expect(404);
  expect(res.body.error.details.reason).toBe('restaurant_not_found');
});
