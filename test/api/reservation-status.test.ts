import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db);
});
afterAll(() => t.close());

const base = () => `/api/restaurants/${bistro.id}`;

async function book(time: string): Promise<number> {
  const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at(time), guests: 2 }).expect(201);
  return res.body.data.reservation.id as number;
}

test('the door is recorded: confirmed to seated to completed, each step in the history', async () => {
  const id = await book('20:00');
  const seated = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'seated' }).expect(200);
  expect(seated.body.data.reservation).toMatchObject({ id, status: 'seated' });
  await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'seated' }).expect(200);
  await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'completed' }).expect(200);
  const history = await t.api.get(`${base()}/reservations/${id}/history`, bistro.key).expect(200);
  expect(history.body.data.events.map((e: { action: string }) => e.action)).toEqual(['created', 'seated', 'completed']);
});

test('a transition the rules do not allow is 409 invalid_transition naming both ends', async () => {
  const id = await book('21:00');
  await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'no_show' }).expect(200);
  const res = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'seated' }).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'invalid_transition', from: 'no_show', to: 'seated' } });
});

test('an unknown status is 400 naming the field; an unknown reservation is 404', async () => {
  const id = await book('22:00');
  const bad = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'eaten' }).expect(400);
  expect(bad.body.error.message).toMatch(/body\/status/);
  await t.api.post(`${base()}/reservations/999999/status`, bistro.key).send({ status: 'seated' }).expect(404);
});
