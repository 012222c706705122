// Issue 12, single points of proof: end-to-end tests, each of which fails when one guarantee of
// DESIGN §1.2-§1.3 is removed (the retry after a lost race, the mapping of a raw conflict, the
// exclusion constraint on booking.reservation_tables).
import type pg from 'pg';
import { connections } from '../support/cluster';
import { addCombination } from '../support/fixtures';
import { overlaps, startTestApi, tenant, type ApiUnderTest } from './support';

let t: ApiUnderTest;
beforeAll(async () => {
  t = await startTestApi({ env: { DB_POOL_SIZE: '10' } });
});
afterAll(() => t.close());

/** How many sessions wait for a lock the session `pid` holds, once at least one does (about 5 s at most). */
async function blockedBy(watcher: pg.Client, pid: number): Promise<number> {
  let waiting = 0;
  for (let i = 0; i < 200 && waiting === 0; i += 1) {
    const { rows } = await watcher.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock' and $1 = any(pg_blocking_pids(pid))`,
      [pid],
    );
    waiting = rows[0]!.n;
    if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return waiting;
}

test('parallel HTTP bookings of one slot spread over the fitting tables: exactly K distinct tables, the rest 409 all_tables_taken, round after round', async () => {
  // Rounds of exactly K racers catch a racer that gives up after losing a race (a table stays
  // free); rounds of more than K catch a lost race leaking out as something else than a refusal.
  // A lost race is a matter of timing: a round of K racers loses one now and then, so many rounds.
  const racersPerRound = Array.from({ length: 48 }, (_v, i) => (i % 8 === 7 ? [5, 6, 8, 12, 5, 20][(i - 7) / 8]! : 4));
  for (const [round, racers] of racersPerRound.entries()) {
    // Each round its own restaurant: four fitting two-tops (K = 4), a six-top the party of two may
    // not take (min_guests 3) and a one-top too small for it.
    const bistro = await tenant(t.db, { tables: [[2, 1], [2, 1], [2, 1], [2, 1], [6, 3], [1, 1]] });
    const fitting = bistro.restaurant.tableIds.slice(0, 4).map(Number).sort((x, y) => x - y);
    const date = await bistro.at('20:00');
    const responses = await Promise.all(
      Array.from({ length: racers }, (_v, i) =>
        t.api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).set('Idempotency-Key', `spread-${i}`).send({ date, guests: 2 }),
      ),
    );
    const seated = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    const outcome = {
      round,
      statuses: responses.map((r) => r.status).sort(),
      tables: seated.map((r) => r.body.data.table.id as number).sort((x, y) => x - y),
      refusals: refused.map((r) => [r.body.error.code, r.body.error.details?.reason]),
    };
    expect(outcome).toEqual({
      round,
      statuses: [...Array(4).fill(201), ...Array(racers - 4).fill(409)],
      tables: fitting,
      refusals: Array(racers - 4).fill(['PT409', 'all_tables_taken']),
    });
    const { rows } = await t.db.pool.query<{ n: number }>("select count(*)::int as n from booking.reservations where restaurant_id = $1 and status = 'confirmed'", [bistro.id]);
    expect(rows[0]!.n).toBe(4);
  }
});

test('a raw INSERT racing an API booking for the same table makes the API answer 409 PT409 table_taken in the contract body once the insert commits', async () => {
  const bistro = await tenant(t.db, { tables: [[2, 1]] });
  const [table] = bistro.restaurant.tableIds;
  const date = await bistro.at('20:00');
  const [owner, watcher] = await connections(t.db.url, 2);
  try {
    await owner!.query('begin');
    const { rows: ownerPid } = await owner!.query<{ pid: number }>('select pg_backend_pid() as pid');
    await owner!.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
       values ($1, $2, $3, $3::timestamptz + interval '90 minutes', 2)`,
      [bistro.id, table, date],
    );
    const pending = t.api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).send({ date, guests: 2, table_id: Number(table) }).then((res) => res);
    // The API's transaction must be queued behind the uncommitted row before the owner commits.
    expect(await blockedBy(watcher!, ownerPid[0]!.pid)).toBe(1);
    await owner!.query('commit');
    const res = await pending;
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      success: false,
      error: {
        code: 'PT409',
        message: expect.any(String),
        details: { reason: 'table_taken', alternatives: expect.any(Array) },
        hint: expect.any(String),
      },
    });
    // The one table is blocked [20:00, 21:45): the nearest starts whose stay (90 + 15 minutes) fits.
    const alternatives = res.body.error.details.alternatives as Array<{ local_time: string; tables_available: number }>;
    expect(alternatives.map((a) => [a.local_time, a.tables_available])).toEqual([
      ['18:15', 1],
      ['21:45', 1],
      ['18:00', 1],
      ['22:00', 1],
      ['17:45', 1],
    ]);
    const { rows } = await t.db.pool.query<{ n: number }>('select count(*)::int as n from booking.reservations where restaurant_id = $1', [bistro.id]);
    expect(rows[0]!.n).toBe(1);
  } finally {
    await owner!.query('rollback').catch(() => undefined);
    await Promise.all([owner!.end(), watcher!.end()]);
  }
});

test('an API booking that finds the one fitting table being taken waits, and books it when that booker rolls back', async () => {
  const bistro = await tenant(t.db, { tables: [[2, 1]] });
  const date = await bistro.at('20:00');
  const [booker, watcher] = await connections(t.db.url, 2);
  try {
    await booker!.query('begin');
    const { rows: bookerPid } = await booker!.query<{ pid: number }>('select pg_backend_pid() as pid');
    await booker!.query('select * from booking.book_table($1, $2, 2)', [bistro.id, date]);
    const pending = t.api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).send({ date, guests: 2 }).then((res) => res);
    expect(await blockedBy(watcher!, bookerPid[0]!.pid)).toBe(1);
    await booker!.query('rollback');
    const res = await pending;
    expect([res.status, res.body.data?.table.id]).toEqual([201, Number(bistro.restaurant.tableIds[0])]);
  } finally {
    await booker!.query('rollback').catch(() => undefined);
    await Promise.all([booker!.end(), watcher!.end()]);
  }
});

test('after an HTTP storm of mixed parties at overlapping times, no table is held twice at once, derived from reservations and combination members', async () => {
  const bistro = await tenant(t.db, { tables: [[2, 1], [2, 1], [2, 1], [4, 2], [4, 2]] });
  const [t1, t2, t3] = bistro.restaurant.tableIds;
  await addCombination(t.db.pool, bistro.restaurant.id, { name: 'T1+T2', tableIds: [t1!, t2!], minGuests: 3, capacity: 4 });
  await addCombination(t.db.pool, bistro.restaurant.id, { name: 'T2+T3', tableIds: [t2!, t3!], minGuests: 3, capacity: 4 });
  const times = ['19:00', '19:30', '20:00'];
  const starts = await Promise.all(times.map((time) => bistro.at(time)));
  const requests = Array.from({ length: 60 }, (_v, i) => ({ date: starts[i % 3]!, guests: i % 2 === 0 ? 2 : 4 }));
  const responses = await Promise.all(
    requests.map((body, i) => t.api.post(`/api/restaurants/${bistro.id}/reservations`, bistro.key).set('Idempotency-Key', `overlap-${i}`).send(body)),
  );
  expect(responses.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.status)).toEqual([]);
  expect(responses.filter((r) => r.status === 201).length).toBeGreaterThan(0);
  expect(await overlaps(t.db.pool, bistro.id)).toEqual([]);
});
