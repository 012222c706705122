// The host at the door: POST …/reservations/{id}/status and /rpc/set_reservation_status follow
// booking.set_reservation_status's transitions exactly; a forbidden one is a 409 naming the
// current status and the allowed next ones; every change is in the history.
import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
let other: Tenant;
beforeAll(async () => {
  t = await startTestApi();
  bistro = await tenant(t.db, { tables: Array.from({ length: 40 }, () => [4, 1] as [number, number]) }, 'host tablet');
  other = await tenant(t.db);
});
afterAll(() => t.close());

const base = () => `/api/restaurants/${bistro.id}`;
const STATUSES = ['confirmed', 'seated', 'completed', 'cancelled', 'no_show'] as const;
// As the SQL function has them.
const NEXT: Record<string, string[]> = { confirmed: ['seated', 'no_show', 'cancelled'], seated: ['completed'], completed: [], cancelled: [], no_show: [] };

let slot = 0;
async function booked(): Promise<number> {
  const times = ['12:00', '12:30', '13:00', '13:30', '14:00', '14:30', '15:00', '15:30', '16:00', '16:30', '17:00', '17:30'];
  const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at(times[slot++ % times.length]!), guests: 2 }).expect(201);
  return res.body.data.reservation.id as number;
}

/** A reservation brought to `status` through the route itself. */
async function reservationIn(status: string): Promise<number> {
  const id = await booked();
  const path: Record<string, string[]> = { confirmed: [], seated: ['seated'], completed: ['seated', 'completed'], cancelled: ['cancelled'], no_show: ['no_show'] };
  for (const step of path[status]!) await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: step }).expect(200);
  return id;
}

test('the evening through the route: seated, then completed, each in the history with channel api and the key label', async () => {
  const id = await booked();
  const seated = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'seated' }).expect(200);
  expect(seated.body).toMatchObject({ success: true, data: { reservation: { id, status: 'seated' }, table: { id: seated.body.data.reservation.table_id } } });
  const completed = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'completed' }).expect(200);
  expect(completed.body.data.reservation.status).toBe('completed');
  const history = await t.api.get(`${base()}/reservations/${id}/history`, bistro.key).expect(200);
  const events = history.body.data.events as Array<{ action: string; old_status: string | null; new_status: string; channel: string; actor: string }>;
  expect(events.map((e) => [e.old_status, e.new_status])).toEqual([[null, 'confirmed'], ['confirmed', 'seated'], ['seated', 'completed']]);
  expect(events.every((e) => e.channel === 'api' && e.actor === 'host tablet')).toBe(true);
});

test('every pair of statuses: allowed exactly as the SQL allows, the same status again is a no-op, anything else 409 with current and allowed', async () => {
  for (const from of STATUSES) {
    for (const to of STATUSES) {
      const id = await reservationIn(from);
      const res = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: to });
      if (to === from || NEXT[from]!.includes(to)) {
        expect([from, to, res.status, res.body.data.reservation.status]).toEqual([from, to, 200, to]);
      } else {
        expect([from, to, res.status]).toEqual([from, to, 409]);
        expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'invalid_transition', current_status: from, allowed: NEXT[from] } });
        expect(res.body.error.hint).toMatch(NEXT[from]!.length ? new RegExp(NEXT[from]!.join(', ')) : /final/);
      }
    }
  }
});

test('the /rpc form answers the plain reservation and records channel rpc', async () => {
  const id = await booked();
  const res = await t.api.post('/rpc/set_reservation_status', bistro.key).send({ restaurant_id: bistro.id, reservation_id: id, status: 'no_show' }).expect(200);
  expect(res.body).toMatchObject({ id, status: 'no_show', restaurant_id: bistro.id });
  const refused = await t.api.post('/rpc/set_reservation_status', bistro.key).send({ restaurant_id: bistro.id, reservation_id: id, status: 'seated' }).expect(409);
  expect(refused.body).toMatchObject({ code: 'PT409', details: { reason: 'invalid_transition', current_status: 'no_show', allowed: [] } });
  const history = await t.db.pool.query('select channel, new_status from booking.reservation_events where reservation_id = $1 order by id', [id]);
  expect(history.rows.at(-1)).toEqual({ channel: 'rpc', new_status: 'no_show' });
});

test('bad input, unknown reservations and other restaurants are refused before anything changes', async () => {
  const id = await booked();
  const unknown = await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'arrived' }).expect(400);
  expect(unknown.body.error.details.errors[0].path).toBe('/body/status');
  await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({}).expect(400);
  await t.api.post(`${base()}/reservations/${id}/status`, bistro.key).send({ status: 'seated', table: 3 }).expect(400);
  await t.api.post(`${base()}/reservations/999999/status`, bistro.key).send({ status: 'seated' }).expect(404);
  await t.api.post(`${base()}/reservations/${id}/status`, other.key).send({ status: 'seated' }).expect(403);
  await t.api.post(`/api/restaurants/${other.id}/reservations/${id}/status`, other.key).send({ status: 'seated' }).expect(404);
  await t.api.post('/rpc/set_reservation_status', other.key).send({ restaurant_id: bistro.id, reservation_id: id, status: 'seated' }).expect(403);
  await t.api.post(`${base()}/reservations/${id}/status`).send({ status: 'seated' }).expect(401);
  const still = await t.api.get(`${base()}/reservations/${id}`, bistro.key).expect(200);
  expect(still.body.data.reservation.status).toBe('confirmed');
});
