import { apiKey, startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
});
afterAll(() => t.close());

const base = () => `/api/restaurants/${bistro.id}/clients`;

test('a guest can be created, read, changed and found by e-mail, name or phone', async () => {
  const created = await t.api.post(base(), bistro.key).send({ email: 'lola@example.com', name: 'Lola Flores', phone: '+34 611 000 001', notes: 'vegan' }).expect(201);
  const id = created.body.data.id;
  expect(created.body.data).toMatchObject({ email: 'lola@example.com', name: 'Lola Flores', phone: '+34 611 000 001', notes: 'vegan', restaurant_id: bistro.id });
  await t.api.get(`${base()}/${id}`, bistro.key).expect(200);
  const changed = await t.api.put(`${base()}/${id}`, bistro.key).send({ phone: '+34 611 000 002' }).expect(200);
  expect(changed.body.data).toMatchObject({ phone: '+34 611 000 002', name: 'Lola Flores' });
  const renamed = await t.api.put(`${base()}/${id}`, bistro.key).send({ email: 'lola.flores@example.com', name: 'Lola F.', notes: 'vegan, no nuts' }).expect(200);
  expect(renamed.body.data).toEqual({ ...changed.body.data, email: 'lola.flores@example.com', name: 'Lola F.', notes: 'vegan, no nuts', updated_at: expect.any(String) });
  const renamedBack = await t.api.put(`${base()}/${id}`, bistro.key).send({ email: 'lola@example.com', name: 'Lola Flores' }).expect(200);
  expect(renamedBack.body.data).toMatchObject({ email: 'lola@example.com', name: 'Lola Flores', notes: 'vegan, no nuts' });
  for (const q of ['LOLA@', 'flores', '000 002']) {
    const found = await t.api.get(`${base()}?q=${encodeURIComponent(q)}`, bistro.key).expect(200);
    expect(found.body.data.clients.map((c: { id: number }) => c.id)).toEqual([id]);
  }
});

test('search treats % and _ literally', async () => {
  await t.api.post(base(), bistro.key).send({ email: 'under_score@example.com' }).expect(201);
  await t.api.post(base(), bistro.key).send({ email: 'underXscore@example.com' }).expect(201);
  const res = await t.api.get(`${base()}?q=under_`, bistro.key).expect(200);
  expect(res.body.data.clients.map((c: { email: string }) => c.email)).toEqual(['under_score@example.com']);
  const none = await t.api.get(`${base()}?q=%25`, bistro.key).expect(200);
  expect(none.body.data.clients).toEqual([]);
});

test('the guest list pages with limit and cursor until next_cursor is null', async () => {
  const own = await tenant(t.db);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await t.api.post(`/api/restaurants/${own.id}/clients`, own.key).send({ email: `page${i}@example.com` }).expect(201);
    ids.push(res.body.data.id);
  }
  const pages: number[][] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const res = await t.api.get(`/api/restaurants/${own.id}/clients?limit=2${query}`, own.key).expect(200);
    pages.push(res.body.data.clients.map((c: { id: number }) => c.id));
    cursor = res.body.data.next_cursor;
  } while (cursor && pages.length < 10);
  expect(pages).toEqual([ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
  const all = await t.api.get(`/api/restaurants/${own.id}/clients`, own.key).expect(200);
  expect(all.body.data).toEqual({ clients: expect.any(Array), next_cursor: null });
  expect(all.body.data.clients.map((c: { id: number }) => c.id)).toEqual(ids);
});

test('an internationalised e-mail is one guest whatever its case, on the REST and the /rpc forms', async () => {
  const created = await t.api.post(base(), bistro.key).send({ email: 'zoë@exämple.org', name: 'Zoë' }).expect(201);
  const again = await t.api.post('/rpc/upsert_client', bistro.key).send({ restaurant_id: bistro.id, email: 'ZOË@EXÄMPLE.ORG', phone: '+34 611 000 009' }).expect(200);
  expect(again.body).toMatchObject({ id: created.body.data.id, email: 'zoë@exämple.org', name: 'Zoë', phone: '+34 611 000 009' });
  const duplicate = await t.api.post(base(), bistro.key).send({ email: 'Zoë@Exämple.org' }).expect(409);
  expect(duplicate.body.error.code).toBe('23505');
  const found = await t.api.get(`${base()}?q=${encodeURIComponent('ZOË@')}`, bistro.key).expect(200);
  expect(found.body.data.clients.map((c: { id: number }) => c.id)).toEqual([created.body.data.id]);
});

test('a second guest with the same e-mail (any case) is 409', async () => {
  await t.api.post(base(), bistro.key).send({ email: 'dup@example.com' }).expect(201);
  const res = await t.api.post(base(), bistro.key).send({ email: 'DUP@example.com' }).expect(409);
  expect(res.body.error.code).toBe('23505');
  expect(res.body.error.hint).toBeTruthy();
});

test('deleting a guest without reservations removes it; with reservations it is anonymised and the booking stays', async () => {
  const lonely = await t.api.post(base(), bistro.key).send({ email: 'lonely@example.com' }).expect(201);
  const gone = await t.api.delete(`${base()}/${lonely.body.data.id}`, bistro.key).expect(200);
  expect(gone.body.data).toEqual({ id: lonely.body.data.id, outcome: 'deleted' });
  await t.api.get(`${base()}/${lonely.body.data.id}`, bistro.key).expect(404);

  const booked = await t.api
    .post(`/api/restaurants/${bistro.id}/reservations`, bistro.key)
    .send({ date: await bistro.at('20:00'), guests: 2, client: { email: 'regular@example.com', name: 'Pepe', phone: '+34 622 000 000' } })
    .expect(201);
  const clientId = booked.body.data.reservation.client_id;
  const listed = await t.api.get(`${base()}/${clientId}/reservations`, bistro.key).expect(200);
  expect(listed.body.data.reservations.map((r: { id: number }) => r.id)).toEqual([booked.body.data.reservation.id]);
  const anonymised = await t.api.delete(`${base()}/${clientId}`, bistro.key).expect(200);
  expect(anonymised.body.data.outcome).toBe('anonymised');
  const after = await t.api.get(`${base()}/${clientId}`, bistro.key).expect(200);
  expect(after.body.data).toMatchObject({ name: null, phone: null });
  expect(after.body.data.email).not.toContain('regular');
  await t.api.get(`/api/restaurants/${bistro.id}/reservations/${booked.body.data.reservation.id}`, bistro.key).expect(200);
});

test('unknown guests are 404 on every guest route', async () => {
  for (const res of [
    await t.api.get(`${base()}/999999`, bistro.key),
    await t.api.put(`${base()}/999999`, bistro.key).send({ name: 'X' }),
    await t.api.delete(`${base()}/999999`, bistro.key),
    await t.api.get(`${base()}/999999/reservations`, bistro.key),
  ]) {
    expect(res.status).toBe(404);
    expect(res.body.error.details.reason).toBe('client_not_found');
  }
});

test('an admin key sees 404 for a restaurant that does not exist', async () => {
  const admin = await apiKey(t.db, null, 'admin');
  const res = await t.api.get('/api/restaurants/999999/clients', admin).expect(404);
  expect(res.body.error.details.reason).toBe('restaurant_not_found');
  await t.api.get(`/api/restaurants/999999/reservations?date=${bistro.day}`, admin).expect(404);
  await t.api.post('/api/restaurants/999999/clients', admin).send({ email: 'x@example.com' }).expect(404);
});
