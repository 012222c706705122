// Real parallel connections racing through book_table: exactly min(N, K) bookings, no overlap,
// and no deadlock or serialization failure ever reaching the caller.
import pg from 'pg';
import { connections, freshDatabase, testTarget, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant } from '../support/fixtures';
import { refusal } from '../support/sql';
import { overlappingPairs } from '../../load/verify';

let db: TestDatabase;
let r: Restaurant;
let day: string;
let clients: pg.Client[];
const RACERS = 50;

beforeAll(async () => {
  db = await freshDatabase();
  // Seven tables seat a party of two (the six-seat min 3 and the eight-seat min 4 do not).
  r = await createRestaurant(db.pool, {
    tables: [[2, 1], [2, 1], [2, 1], [4, 1], [4, 2], [4, 2], [6, 2], [6, 3], [8, 4]],
  });
  day = await localDate(db.pool, r.timezone, 4);
  clients = await connections(db.url, RACERS);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.end()));
  await db.drop();
});
beforeEach(() => db.pool.query('delete from booking.reservations'));

type Outcome = { ok: true; tableId: string } | { ok: false; code: string; reason?: string };

async function race(startsAt: (i: number) => string, guests: number): Promise<Outcome[]> {
  return Promise.all(
    clients.map(async (client, i): Promise<Outcome> => {
      try {
        const { rows } = await client.query('select table_id from booking.book_table($1, $2, $3)', [r.id, startsAt(i), guests]);
        return { ok: true, tableId: rows[0].table_id };
      } catch (error) {
        const failure = await refusal(Promise.reject(error));
        return { ok: false, code: failure.code, reason: failure.reason };
      }
    }),
  );
}

const overlaps = () => overlappingPairs(db.pool);

test(`${RACERS} connections racing for one slot where 7 tables fit get exactly 7 bookings, the rest PT409`, async () => {
  const startsAt = await localInstant(db.pool, r.timezone, day, '20:00');
  const outcomes = await race(() => startsAt, 2);
  const booked = outcomes.filter((o) => o.ok);
  expect(booked).toHaveLength(7);
  expect(new Set(booked.map((o) => (o as { tableId: string }).tableId)).size).toBe(7);
  const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  expect(refused.map((o) => `${o.code} ${o.reason}`)).toEqual(Array(RACERS - 7).fill('PT409 all_tables_taken'));
  expect(await overlaps()).toBe(0);
});

/** Deadlocks PostgreSQL has counted in this database, once every racer has reported its own. */
async function deadlocks(): Promise<number> {
  await Promise.all(clients.map((client) => client.query('select pg_stat_force_next_flush()')));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const { rows } = await db.pool.query('select deadlocks::int as n from pg_stat_database where datname = current_database()');
  return rows[0].n;
}

test('racers for overlapping but different start times never overlap, never deadlock, and are refused only with PT409', async () => {
  const starts = await Promise.all(['19:30', '19:45', '20:00', '20:15'].map((t) => localInstant(db.pool, r.timezone, day, t)));
  const before = await deadlocks();
  const outcomes = await race((i) => starts[i % starts.length]!, 2);
  expect(await deadlocks()).toBe(before);
  const refused = outcomes.filter((o): o is Extract<Outcome, { ok: false }> => !o.ok);
  expect(new Set(refused.map((o) => o.code))).toEqual(new Set(refused.length ? ['PT409'] : []));
  expect(outcomes.filter((o) => o.ok)).toHaveLength(7);
  expect(await overlaps()).toBe(0);
});

test('an evening of racers for overlapping starts and mixed party sizes never deadlocks, 10 times over', async () => {
  const times = Array.from({ length: 12 }, (_, i) => `${19 + Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}`);
  const starts = await Promise.all(times.map((t) => localInstant(db.pool, r.timezone, day, t)));
  const before = await deadlocks();
  for (let round = 0; round < 10; round++) {
    await db.pool.query('delete from booking.reservations');
    await Promise.all(
      clients.map((client, i) =>
        client.query('select booking.book_table($1, $2, $3)', [r.id, starts[(i * 7 + round) % starts.length], 2 + ((i + round) % 5)]).catch((error: pg.DatabaseError) => {
          if (error.code !== 'PT409') throw error;
        }),
      ),
    );
    expect(await overlaps()).toBe(0);
  }
  expect(await deadlocks()).toBe(before);
});

test(`${RACERS} connections booking distinct slots all succeed`, async () => {
  // Distinct starts far enough apart not to overlap: five a day, on consecutive days.
  const { rows } = await db.pool.query<{ at: Date }>(
    `select ((now() at time zone $1)::date + 2 + i / 5 + make_interval(hours => 12 + 2 * (i % 5))) at time zone $1 as at
       from generate_series(0, $2 - 1) i`,
    [r.timezone, RACERS],
  );
  const starts = rows.map((row) => row.at.toISOString());
  const outcomes = await race((i) => starts[i]!, 2);
  expect(outcomes.filter((o) => !o.ok)).toEqual([]);
  expect(await overlaps()).toBe(0);
});

describe('losing a race', () => {
  test('moves on to the next table when a concurrent insert takes the chosen one', async () => {
    const startsAt = await localInstant(db.pool, r.timezone, day, '20:00');
    const rival = clients[0]!;
    await rival.query('begin');
    // An uncommitted raw write on the smallest table: invisible to book_table's search, so
    // it picks that table and its insert waits on the rival's row, then loses.
    await rival.query(
      `insert into booking.reservations (restaurant_id, table_id, starts_at, ends_at, guests)
       values ($1, $2, $3, $3::timestamptz + interval '90 minutes', 2)`,
      [r.id, r.tableIds[0], startsAt],
    );
    const booking = clients[1]!.query('select table_id from booking.book_table($1, $2, 2)', [r.id, startsAt]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await rival.query('commit');
    const { rows } = await booking;
    expect(rows[0].table_id).toBe(r.tableIds[1]);
    expect(await overlaps()).toBe(0);
  });

  test('waits for a table another booker of the same start holds rather than refusing while it may still be free', async () => {
    const single = await createRestaurant(db.pool, { name: 'One table', tables: [[2, 1]] });
    const startsAt = await localInstant(db.pool, single.timezone, day, '20:00');
    const holder = clients[0]!;
    await holder.query('begin');
    await holder.query("select booking_private.lock_tables(array[$1]::bigint[], tstzrange($2, $2::timestamptz + interval '1 minute'), 15, true)", [
      single.tableIds[0],
      startsAt,
    ]);
    const booking = clients[1]!.query('select table_id from booking.book_table($1, $2, 2)', [single.id, startsAt]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { rows: waiting } = await db.pool
      .query(
        `select count(*)::int as n from pg_locks
          where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`,
      )
      .finally(() => holder.query('rollback'));
    expect(waiting[0].n).toBe(1);
    const { rows } = await booking;
    expect(rows[0].table_id).toBe(single.tableIds[0]);
  });

  test('is not slowed by a booker of another time holding the same table', async () => {
    const single = await createRestaurant(db.pool, { name: 'Lunch and dinner', tables: [[2, 1]] });
    const lunch = await localInstant(db.pool, single.timezone, day, '13:00');
    const holder = clients[0]!;
    await holder.query('begin');
    await holder.query('select table_id from booking.book_table($1, $2, 2)', [single.id, lunch]);
    try {
      const { rows } = await clients[1]!.query('select table_id from booking.book_table($1, $2, 2)', [
        single.id,
        await localInstant(db.pool, single.timezone, day, '20:30'),
      ]);
      expect(rows[0].table_id).toBe(single.tableIds[0]);
    } finally {
      await holder.query('rollback');
    }
  });
});

describe('tight packing under concurrency', () => {
  test('40 parties of two racing for lunch and dinner all sit at two-tops, 20 times over', async () => {
    const twoTops = Array.from({ length: 20 }, (): [number, number] => [2, 1]);
    const packed = await createRestaurant(db.pool, {
      name: 'Packed',
      tables: [...twoTops, ...Array.from({ length: 6 }, (): [number, number] => [4, 1]), ...Array.from({ length: 3 }, (): [number, number] => [6, 1])],
    });
    const lunch = await localInstant(db.pool, packed.timezone, day, '13:00');
    const dinner = await localInstant(db.pool, packed.timezone, day, '20:30');
    const twoTopIds = new Set(packed.tableIds.slice(0, 20));
    const displaced: string[] = [];
    for (let round = 0; round < 20; round++) {
      await db.pool.query('delete from booking.reservations where restaurant_id = $1', [packed.id]);
      const tables = await Promise.all(
        clients.slice(0, 40).map(async (client, i) => {
          const { rows } = await client.query('select table_id from booking.book_table($1, $2, 2)', [packed.id, i % 2 ? lunch : dinner]);
          return rows[0].table_id as string;
        }),
      );
      displaced.push(...tables.filter((id) => !twoTopIds.has(id)).map((id) => `round ${round}: table ${id}`));
    }
    expect(displaced).toEqual([]);
    expect(await overlaps()).toBe(0);
    // On a Citus cluster a round takes about 6 s on two cores (9 s with the cores busy): every
    // statement of book_table, and every savepoint of a skipped table, is a round trip from the
    // coordinator to a worker. The 20 rounds ran past the suite's 120 s in CI, so that target
    // gives them more time.
  }, testTarget() === 'citus' ? 600_000 : undefined);
});
