// Combinations, areas and pacing through HTTP: the legacy routes and /rpc pass the arguments
// through, answer with every table held, and turn the refusals into the contract's errors.
import { addCombination } from '../support/fixtures';
import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

let t: ApiUnderTest;
let bistro: Tenant;
let pair: number;
beforeAll(async () => {
  t = await startTestApi();
  // T1, T2 four-tops inside, T3 a two-top on the terrace; T1+T2 seat 5 to 8.
  bistro = await tenant(t.db, { tables: [[4, 1, 'inside'], [4, 1, 'inside'], [2, 1, 'terrace']] });
  pair = Number(
    await addCombination(t.db.pool, bistro.restaurant.id, {
      name: 'T1+T2',
      tableIds: bistro.restaurant.tableIds.slice(0, 2),
      minGuests: 5,
      capacity: 8,
    }),
  );
});
afterAll(() => t.close());
beforeEach(() => t.db.pool.query('delete from booking.reservations'));

const base = () => `/api/restaurants/${bistro.id}`;
const ids = () => bistro.restaurant.tableIds.map(Number);

test('a party larger than any table is booked at a combination, and the answer lists every table it holds', async () => {
  const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 7 }).expect(201);
  const { reservation, table } = res.body.data;
  expect(reservation).toMatchObject({ combination_id: pair, table_id: ids()[0], guests: 7 });
  expect(reservation.tables).toEqual([
    { id: ids()[0], name: 'T1', capacity: 4 },
    { id: ids()[1], name: 'T2', capacity: 4 },
  ]);
  expect(table).toEqual({ id: ids()[0], name: 'T1', capacity: 4 });
  const read = await t.api.get(`${base()}/reservations/${reservation.id}`, bistro.key).expect(200);
  expect(read.body.data.reservation.tables).toEqual(reservation.tables);
  const day = await t.api.get(`${base()}/reservations?date=${bistro.day}`, bistro.key).expect(200);
  expect(day.body.data.reservations[0].tables).toHaveLength(2);
});

test('/rpc/book_table takes combination_id and area, and answers with tables', async () => {
  const joined = await t.api
    .post('/rpc/book_table', bistro.key)
    .send({ restaurant_id: bistro.id, starts_at: await bistro.at('13:00'), guests: 6, combination_id: pair })
    .expect(200);
  expect(joined.body).toMatchObject({ combination_id: pair, tables: [{ id: ids()[0] }, { id: ids()[1] }] });
  const outside = await t.api
    .post('/rpc/book_table', bistro.key)
    .send({ restaurant_id: bistro.id, starts_at: await bistro.at('13:00'), guests: 2, area: 'TERRACE' })
    .expect(200);
  expect(outside.body).toMatchObject({ table_id: ids()[2], combination_id: null, tables: [{ id: ids()[2], name: 'T3', capacity: 2 }] });
});

test('availability counts only the area asked for, on the legacy route and both /rpc forms', async () => {
  const legacy = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=2&time=20:00&area=terrace`, bistro.key).expect(200);
  expect(legacy.body.data.tablesAvailable).toBe(1);
  const get = await t.api.get(`/rpc/available_table_counts?restaurant_id=${bistro.id}&day=${bistro.day}&guests=2&area=inside`, bistro.key).expect(200);
  expect(get.body.find((s: { local_time: string }) => s.local_time === '20:00').tables_available).toBe(2);
  const post = await t.api.post('/rpc/available_table_counts', bistro.key).send({ restaurant_id: bistro.id, day: bistro.day, guests: 7, area: 'inside' }).expect(200);
  expect(post.body.find((s: { local_time: string }) => s.local_time === '20:00').tables_available).toBe(1);
});

test('an unknown area is a 422 listing the restaurant\'s areas', async () => {
  const res = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=2&area=roof`, bistro.key).expect(422);
  expect(res.body.error).toMatchObject({ code: 'PT422', details: { reason: 'unknown_area', field: 'area', areas: ['inside', 'terrace'] } });
  expect(res.body.error.hint).toBe('Ask for one of: inside, terrace.');
});

test('a malformed area is a 400 naming the field', async () => {
  const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 2, area: 'the terrace' }).expect(400);
  expect(JSON.stringify(res.body.error)).toContain('area');
});

test('a taken area is a 409 that names it and offers other times', async () => {
  await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 2, area: 'terrace' }).expect(201);
  const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 2, area: 'terrace' }).expect(409);
  expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'all_tables_taken', area: 'terrace' } });
  expect(res.body.error.details.alternatives.length).toBeGreaterThan(0);
});

test('moving a reservation onto a combination through PATCH and /rpc', async () => {
  const booked = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 4 }).expect(201);
  const id = booked.body.data.reservation.id;
  const grown = await t.api.patch(`${base()}/reservations/${id}`, bistro.key).send({ guests: 6 }).expect(200);
  expect(grown.body.data.reservation).toMatchObject({ combination_id: pair, guests: 6 });
  const moved = await t.api
    .post('/rpc/reschedule_reservation', bistro.key)
    .send({ restaurant_id: bistro.id, reservation_id: id, guests: 2, area: 'terrace' })
    .expect(200);
  expect(moved.body).toMatchObject({ combination_id: null, table_id: ids()[2] });
});

test('a slot whose pacing limit is reached is a 409 pacing_limit with alternatives, and shows 0', async () => {
  await t.db.pool.query("insert into booking.pacing_limits (restaurant_id, opens, closes, max_covers) values ($1, '20:00', '20:15', 4)", [bistro.id]);
  try {
    await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 3 }).expect(201);
    const res = await t.api.post(`${base()}/reservations`, bistro.key).send({ date: await bistro.at('20:00'), guests: 2 }).expect(409);
    expect(res.body.error).toMatchObject({ code: 'PT409', details: { reason: 'pacing_limit', max_covers: 4, booked_covers: 3 } });
    expect(res.body.error.details.alternatives[0].local_time).toMatch(/^(19:45|20:15)$/);
    const availability = await t.api.get(`${base()}/availability?date=${bistro.day}&guests=2&time=20:00`, bistro.key).expect(200);
    expect(availability.body.data.tablesAvailable).toBe(0);
  } finally {
    await t.db.pool.query('delete from booking.pacing_limits where restaurant_id = $1', [bistro.id]);
  }
});

describe('a named table, combination or area is honoured, never dropped on the way to SQL', () => {
  // Unnamed, a couple gets the terrace two-top and a party of six the first pair; every request
  // below names something else, so an argument lost on its route gives the unnamed answer.
  let lounge: Tenant;
  let first: number;
  let second: number;
  const table = (n: number) => lounge.restaurant.tableIds.map(Number)[n - 1]!;
  const path = () => `/api/restaurants/${lounge.id}`;
  beforeAll(async () => {
    lounge = await tenant(t.db, { name: 'Lounge', tables: [[4, 1, 'inside'], [4, 1, 'inside'], [4, 1, 'inside'], [2, 1, 'terrace']] });
    const pairOf = (name: string, members: number[]) =>
      addCombination(t.db.pool, lounge.restaurant.id, { name, tableIds: members.map((n) => String(table(n))), minGuests: 5, capacity: 8 }).then(Number);
    first = await pairOf('T1+T2', [1, 2]);
    second = await pairOf('T2+T3', [2, 3]);
  });

  test('unnamed, a couple is seated on the terrace and a party of six at the first pair', async () => {
    const couple = await t.api.post('/rpc/book_table', lounge.key).send({ restaurant_id: lounge.id, starts_at: await lounge.at('12:00'), guests: 2 }).expect(200);
    expect(couple.body).toMatchObject({ table_id: table(4), combination_id: null });
    const six = await t.api.post('/rpc/book_table', lounge.key).send({ restaurant_id: lounge.id, starts_at: await lounge.at('15:00'), guests: 6 }).expect(200);
    expect(six.body).toMatchObject({ combination_id: first });
  });

  test('a legacy booking takes table_id, combination_id and area', async () => {
    const at = await lounge.at('13:00');
    const byTable = await t.api.post(`${path()}/reservations`, lounge.key).send({ date: at, guests: 2, table_id: table(3) }).expect(201);
    expect(byTable.body.data.table.id).toBe(table(3));
    const byArea = await t.api.post(`${path()}/reservations`, lounge.key).send({ date: at, guests: 2, area: 'inside' }).expect(201);
    expect(byArea.body.data.reservation).toMatchObject({ table_id: table(1) });
    const byPair = await t.api.post(`${path()}/reservations`, lounge.key).send({ date: await lounge.at('16:00'), guests: 6, combination_id: second }).expect(201);
    expect(byPair.body.data.reservation).toMatchObject({ combination_id: second, table_id: table(2) });
  });

  test('/rpc/book_table takes table_id, combination_id, area and notes', async () => {
    const at = await lounge.at('17:00');
    const call = (extra: object) => t.api.post('/rpc/book_table', lounge.key).send({ restaurant_id: lounge.id, starts_at: at, guests: 2, ...extra }).expect(200);
    expect((await call({ table_id: table(3), notes: 'by the window' })).body).toMatchObject({ table_id: table(3), notes: 'by the window' });
    expect((await call({ area: 'inside' })).body).toMatchObject({ table_id: table(1), combination_id: null });
    const pair = await call({ guests: 6, starts_at: await lounge.at('20:00'), combination_id: second });
    expect(pair.body).toMatchObject({ combination_id: second, tables: [{ id: table(2) }, { id: table(3) }] });
  });

  test('a legacy move takes combination_id and area', async () => {
    const booked = await t.api.post(`${path()}/reservations`, lounge.key).send({ date: await lounge.at('18:00'), guests: 2 }).expect(201);
    const id = booked.body.data.reservation.id;
    expect(booked.body.data.table.id).toBe(table(4));
    const inside = await t.api.patch(`${path()}/reservations/${id}`, lounge.key).send({ area: 'inside' }).expect(200);
    expect(inside.body.data.reservation).toMatchObject({ table_id: table(1) });
    const grown = await t.api.patch(`${path()}/reservations/${id}`, lounge.key).send({ guests: 6, combination_id: second }).expect(200);
    expect(grown.body.data.reservation).toMatchObject({ combination_id: second, guests: 6 });
  });

  test('/rpc/reschedule_reservation takes table_id, combination_id and area', async () => {
    const booked = await t.api.post('/rpc/book_table', lounge.key).send({ restaurant_id: lounge.id, starts_at: await lounge.at('21:00'), guests: 2 }).expect(200);
    const move = (extra: object) =>
      t.api.post('/rpc/reschedule_reservation', lounge.key).send({ restaurant_id: lounge.id, reservation_id: booked.body.id, ...extra }).expect(200);
    expect((await move({ table_id: table(3) })).body).toMatchObject({ table_id: table(3) });
    expect((await move({ guests: 6, combination_id: second })).body).toMatchObject({ combination_id: second });
    expect((await move({ guests: 2, area: 'terrace' })).body).toMatchObject({ table_id: table(4), combination_id: null });
    expect((await move({ area: 'inside' })).body).toMatchObject({ table_id: table(1) });
  });

  test('a hold takes table_id and area, on the legacy route and /rpc/hold_table', async () => {
    const at = await lounge.at('22:00');
    const legacy = (extra: object) => t.api.post(`${path()}/holds`, lounge.key).send({ date: at, guests: 2, ...extra }).expect(201);
    expect((await legacy({ table_id: table(3) })).body.data.table.id).toBe(table(3));
    expect((await legacy({ area: 'inside' })).body.data.table.id).toBe(table(1));
    const rpc = await t.api.post('/rpc/hold_table', lounge.key).send({ restaurant_id: lounge.id, starts_at: at, guests: 2, table_id: table(2) }).expect(200);
    expect(rpc.body).toMatchObject({ table_id: table(2), status: 'held' });
  });
});
