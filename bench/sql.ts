// `npm run bench:sql`: the SQL functions alone, as a DBA or the server calls them.
// book_table calls/s with 1, 8 and 32 connections on distinct slots and on one contended
// evening (as configured before seating existed, and with combinations and a pacing limit);
// available_table_counts latency for a 50-table restaurant with a full day booked. Prints JSON. A benchmark, not a test: figures vary with the machine and its load.
// BENCH_TARGET=citus (DATABASE_URL at a Citus coordinator): the same on one node and through the
// coordinator, in the same run (README, Citus).
import pg from 'pg';
import { createBenchRestaurant, madridInstant, machine, measure, openBenchDatabase, openCitusBenchDatabases, query, type BenchDatabase, type Measurement } from './support';
import { bookFullDay, seededRandom } from './workloads';

const CONNECTIONS = [1, 8, 32];
const SECONDS = Number(process.argv[2] ?? 5);

const GRID = Array.from({ length: 12 }, (_, i) => `${19 + Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}`);

async function bookDistinct(pool: pg.Pool, connections: number): Promise<Measurement> {
  const restaurant = await createBenchRestaurant(pool, `distinct ${connections}`, '00:00', '00:00');
  // Six starts a day, four hours apart: no two calls ever compete for a table.
  const starts = await pool.query<{ at: Date }>(
    `select ((now() at time zone 'Europe/Madrid')::date + 1 + i / 6 + make_interval(hours => 4 * (i % 6))) at time zone 'Europe/Madrid' as at
       from generate_series(0, 4199) i`,
  );
  return measure(connections, { seconds: SECONDS, maxCalls: starts.rows.length }, async (_worker, n) => {
    await query(pool, 'select booking.book_table($1, $2, 2)', [restaurant, starts.rows[n]!.at]);
  });
}

/**
 * The dining room of a busy restaurant beyond plain tables: four pairs of four-tops joinable
 * for 5 to 8 (reached once the six- and eight-tops are gone) and a kitchen that starts at most
 * 30 covers per slot from 20:00 to 21:00.
 */
async function configureSeating(pool: pg.Pool, restaurant: string): Promise<void> {
  // In steps, each naming the restaurant: Citus cannot push down a LATERAL … LIMIT per pair.
  const { rows: fourTops } = await pool.query<{ id: string }>(
    'select id from booking.tables where restaurant_id = $1 and capacity = 4 order by id limit 8',
    [restaurant],
  );
  const client = await pool.connect();
  try {
    // A combination and its members in one transaction (its size is checked at commit).
    for (let p = 1; p <= 4; p += 1) {
      await client.query('begin');
      const { rows } = await client.query<{ id: string }>(
        `insert into booking.table_combinations (restaurant_id, name, min_guests, capacity) values ($1, $2, 5, 8) returning id`,
        [restaurant, `pair ${p}`],
      );
      await client.query(
        'insert into booking.table_combination_members (restaurant_id, combination_id, table_id) values ($1, $2, $3), ($1, $2, $4)',
        [restaurant, rows[0]!.id, fourTops[2 * (p - 1)]!.id, fourTops[2 * (p - 1) + 1]!.id],
      );
      await client.query('commit');
    }
  } finally {
    client.release();
  }
  await pool.query("insert into booking.pacing_limits (restaurant_id, opens, closes, max_covers) values ($1, '20:00', '21:00', 30)", [restaurant]);
}

async function bookContended(pool: pg.Pool, connections: number, seating: boolean): Promise<Measurement & { booked: number; refused: number }> {
  const restaurant = await createBenchRestaurant(pool, `evening ${connections}${seating ? ' seating' : ''}`, '19:00', '23:30');
  if (seating) await configureSeating(pool, restaurant);
  const next = seededRandom(connections);
  const evenings = new Map<number, string[]>();
  const evening = async (day: number) => {
    if (!evenings.has(day)) evenings.set(day, await Promise.all(GRID.map((time) => madridInstant(pool, day, time))));
    return evenings.get(day)!;
  };
  let booked = 0;
  let refused = 0;
  // Everyone books the same evening (random times, parties of 2-6) until 150 attempts were
  // made on it, enough to fill it and see refusals; then the next evening.
  const result = await measure(connections, { seconds: SECONDS, maxCalls: 150 * 700 }, async (_worker, n) => {
    const times = await evening(1 + Math.floor(n / 150));
    const startsAt = times[Math.floor(next() * times.length)]!;
    const guests = 2 + Math.floor(next() * 5);
    try {
      await query(pool, 'select booking.book_table($1, $2, $3)', [restaurant, startsAt, guests]);
      booked += 1;
    } catch (error) {
      if ((error as pg.DatabaseError).code !== 'PT409') throw error;
      refused += 1;
    }
  });
  return { ...result, booked, refused };
}

async function availability(pool: pg.Pool, seating: boolean) {
  const restaurant = await createBenchRestaurant(pool, `availability${seating ? ' seating' : ''}`, '12:00', '23:30');
  if (seating) await configureSeating(pool, restaurant);
  const { day: localDay, reservations } = await bookFullDay(pool, restaurant);
  const client = await measure(1, { seconds: SECONDS, maxCalls: 5000 }, async () => {
    await pool.query('select * from booking.available_table_counts($1, $2, 4)', [restaurant, localDay]);
  });
  // Database time alone, without the round trip: EXPLAIN ANALYZE's execution time.
  const serverTimes: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const plan = await pool.query('explain (analyze, format json) select * from booking.available_table_counts($1, $2, 4)', [restaurant, localDay]);
    serverTimes.push(plan.rows[0]['QUERY PLAN'][0]['Execution Time'] as number);
  }
  serverTimes.sort((a, b) => a - b);
  return {
    tables: 50,
    reservations,
    client,
    databaseMs: { p50: serverTimes[100], p99: serverTimes[197] },
  };
}

async function run(db: BenchDatabase): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const connections of CONNECTIONS) {
    const pool = new pg.Pool({ connectionString: db.url, max: connections });
    try {
      results[`book_table distinct slots, ${connections} connections`] = await bookDistinct(pool, connections);
      results[`book_table one contended evening, ${connections} connections`] = await bookContended(pool, connections, false);
      results[`book_table one contended evening, combinations and pacing, ${connections} connections`] = await bookContended(pool, connections, true);
    } finally {
      await pool.end();
    }
  }
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    results['available_table_counts, 50 tables, full day'] = await availability(pool, false);
    results['available_table_counts, 50 tables, full day, combinations and pacing'] = await availability(pool, true);
  } finally {
    await pool.end();
  }
  return results;
}

// BENCH_TARGET=citus: the same measurements on one node and through a Citus coordinator, in the
// same run (openCitusBenchDatabases); otherwise on one PostgreSQL.
async function main(): Promise<void> {
  if (process.env.BENCH_TARGET === 'citus') {
    const { single, citus } = await openCitusBenchDatabases();
    try {
      const results = {
        machine: { ...machine(), postgres: single.serverVersion },
        secondsPerRun: SECONDS,
        'one node (a plain database on the coordinator\'s server)': await run(single),
        'Citus (through the coordinator, two workers on the same machine)': await run(citus),
      };
      console.log(JSON.stringify(results, null, 2));
    } finally {
      await single.close();
      await citus.close();
    }
    return;
  }
  const db = await openBenchDatabase();
  try {
    const results = { machine: { ...machine(), postgres: db.serverVersion }, secondsPerRun: SECONDS, ...(await run(db)) };
    console.log(JSON.stringify(results, null, 2));
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
