// `npm run bench`: what the HTTP layer costs over the SQL it translates, in one run on one
// machine. The same bookings are made (a) by calling booking.book_table directly over pg with N
// connections and (b) through POST /reservations with N concurrent clients (autocannon) against
// `server/main.ts` with a pool of N; on distinct slots and on one contended evening. Then (c)
// availability of a 50-table restaurant with a full day booked, through SQL and through HTTP.
// Prints throughput, p50/p99, the HTTP/SQL ratios and the CPU the API's processes used per
// request (Linux's accounting: unlike throughput on a shared machine, it does not move with what
// else runs); writes .data/bench/last.json. API_WORKERS runs that many API processes (the pool of
// N split between them).
//   BENCH_CONNECTIONS=8 BENCH_BOOKINGS=3000 BENCH_SECONDS=8 API_WORKERS=1 npm run bench
// A benchmark, not a test: figures vary with the machine and whatever else runs on it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import pg from 'pg';
import { cpuMeter, createBenchRestaurant, formatCpu, machine, madridInstant, measure, openBenchDatabase, postmasterPid, query, startServerProcess, summarize, type CpuPerCall, type Measurement } from './support';
import { startApiProcess } from '../load/server-process';
import { bookFullDay as fullDay, seededRandom as random } from './workloads';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
// API processes (node:cluster); the pool of N connections is split between them.
const WORKERS = Number(process.env.API_WORKERS ?? 1);
const BOOKINGS = Number(process.env.BENCH_BOOKINGS ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ATTEMPTS_PER_EVENING = 150;
const GRID = Array.from({ length: 12 }, (_, i) => `${19 + Math.floor(i / 4)}:${String((i % 4) * 15).padStart(2, '0')}`);

if (!(CONNECTIONS >= 1 && CONNECTIONS <= 200 && BOOKINGS >= 10 && BOOKINGS <= 100_000 && SECONDS >= 1 && SECONDS <= 120)) {
  throw new Error('BENCH_CONNECTIONS 1..200, BENCH_BOOKINGS 10..100000, BENCH_SECONDS 1..120');
}

interface Booking {
  startsAt: string;
  guests: number;
}

/** Distinct slots: six starts a day, four hours apart, one booking each: nobody competes. */
async function distinctBookings(pool: pg.Pool): Promise<Booking[]> {
  const { rows } = await pool.query<{ at: Date }>(
    `select ((now() at time zone 'Europe/Madrid')::date + 1 + i / 6 + make_interval(hours => 4 * (i % 6))) at time zone 'Europe/Madrid' as at
       from generate_series(0, $1::int - 1) i`,
    [BOOKINGS],
  );
  return rows.map((r) => ({ startsAt: r.at.toISOString(), guests: 2 }));
}

/** A contended evening: 150 attempts at random times of one evening (parties of 2-6), then the next. */
async function eveningBookings(pool: pg.Pool): Promise<Booking[]> {
  const next = random(42);
  const bookings: Booking[] = [];
  const evenings = Math.ceil(BOOKINGS / ATTEMPTS_PER_EVENING);
  for (let evening = 0; evening < evenings; evening += 1) {
    const times = await Promise.all(GRID.map((time) => madridInstant(pool, 1 + evening, time)));
    for (let i = 0; i < ATTEMPTS_PER_EVENING && bookings.length < BOOKINGS; i += 1) {
      bookings.push({ startsAt: times[Math.floor(next() * times.length)]!, guests: 2 + Math.floor(next() * 5) });
    }
  }
  return bookings;
}

interface Result extends Measurement {
  statuses?: Record<string, number>;
  /** CPU per call of the client, PostgreSQL and the API (Linux's accounting, so what other processes do on the machine does not count). */
  cpu: CpuPerCall;
}

let postgresPid: number | null = null;

async function metered(run: () => Promise<Measurement & { statuses?: Record<string, number> }>, api?: number): Promise<Result> {
  const meter = cpuMeter({ postgres: postgresPid, api });
  const m = await run();
  return { ...m, cpu: meter(m.calls) };
}

async function bookSql(pool: pg.Pool, restaurant: string, bookings: Booking[]): Promise<Result> {
  const statuses: Record<string, number> = {};
  return metered(async () => ({ ...(await measure(CONNECTIONS, { seconds: 600, maxCalls: bookings.length }, async (_worker, n) => {
    const b = bookings[n]!;
    try {
      await query(pool, 'select booking.book_table($1, $2, $3, idempotency_key => $4)', [restaurant, b.startsAt, b.guests, randomUUID()]);
      statuses.ok = (statuses.ok ?? 0) + 1;
    } catch (error) {
      const code = (error as pg.DatabaseError).code ?? 'error';
      statuses[code] = (statuses[code] ?? 0) + 1;
    }
  })), statuses }));
}

interface HttpRun {
  path: string;
  method: 'GET' | 'POST';
  apiKey: string;
  amount?: number;
  duration?: number;
  body?: (n: number) => unknown;
}

function http(baseUrl: string, run: HttpRun, apiPid: number): Promise<Result> {
  return metered(() => httpRun(baseUrl, run), apiPid);
}

async function httpRun(baseUrl: string, run: HttpRun): Promise<Measurement & { statuses: Record<string, number> }> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let issued = 0;
  const started = performance.now();
  // Throughput runs to the last answer: autocannon resolves on its once-a-second tick, which
  // added up to a second to a run of a few seconds (3000 bookings in 4.2 s counted as 5 s).
  let lastAnswer = started;
  const result = await autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    ...(run.amount ? { amount: run.amount } : { duration: run.duration ?? SECONDS }),
    timeout: 30,
    requests: [
      {
        method: run.method,
        path: run.path,
        setupRequest: (req, context) => {
          const ctx = context as { t0?: number };
          const n = issued++;
          ctx.t0 = performance.now();
          const headers: Record<string, string> = { authorization: `Bearer ${run.apiKey}` };
          if (!run.body) return { ...req, headers };
          headers['content-type'] = 'application/json';
          headers['idempotency-key'] = randomUUID();
          return { ...req, headers, body: JSON.stringify(run.body(n)) };
        },
        onResponse: (status, _body, context) => {
          lastAnswer = performance.now();
          latencies.push(lastAnswer - ((context as { t0?: number }).t0 ?? lastAnswer));
          statuses[status] = (statuses[status] ?? 0) + 1;
        },
      },
    ],
  });
  if (result.errors) statuses.errors = result.errors;
  return { ...summarize(latencies, (lastAnswer - started) / 1000), statuses };
}


const fmt = (m: Measurement) => `${m.perSecond.toFixed(0).padStart(6)}/s  p50 ${m.p50Ms.toFixed(2).padStart(7)} ms  p99 ${m.p99Ms.toFixed(2).padStart(7)} ms`;
const ratio = (http: Measurement, sql: Measurement) => http.perSecond / sql.perSecond;

async function main(): Promise<number> {
  const loadBefore = os.loadavg()[0]!.toFixed(1);
  const db = await openBenchDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: CONNECTIONS });
  // An idle connection cut at the end (the database is dropped with force) must not end the run.
  pool.on('error', () => undefined);
  postgresPid = await postmasterPid(pool);
  const api = await startApiProcess({
    databaseUrl: db.url,
    env: { DB_POOL_SIZE: String(Math.ceil(CONNECTIONS / WORKERS)), API_WORKERS: String(WORKERS), RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'warn' },
  });
  // The same SQL behind the thinnest possible HTTP layers (bench/floor-server.ts): bare
  // node:http, and Express 5 with no middleware of ours.
  const floors = [
    { label: 'HTTP floor (bare node:http)', key: 'floor', ...(await startServerProcess(path.join(__dirname, 'floor-server.ts'), [db.url, String(CONNECTIONS), 'node'])) },
    { label: 'HTTP floor (bare Express 5)', key: 'expressFloor', ...(await startServerProcess(path.join(__dirname, 'floor-server.ts'), [db.url, String(CONNECTIONS), 'express'])) },
  ];
  const results: Record<string, unknown> = {
    machine: { ...machine(), postgres: db.serverVersion },
    connections: CONNECTIONS,
    apiWorkers: WORKERS,
    bookings: BOOKINGS,
  };
  const keyFor = async (restaurant: string) =>
    (await pool.query<{ key: string }>("select booking.create_api_key($1, 'bench') as key", [restaurant])).rows[0]!.key;
  let ok = true;
  const lines: string[] = [];
  try {
    for (const [name, make] of [
      ['distinct slots', distinctBookings],
      ['one contended evening at a time', eveningBookings],
    ] as const) {
      const bookings = await make(pool);
      const [opens, closes] = name === 'distinct slots' ? ['00:00', '00:00'] : ['19:00', '23:30'];
      const body = (n: number) => ({ date: bookings[Math.min(n, bookings.length - 1)]!.startsAt, guests: bookings[Math.min(n, bookings.length - 1)]!.guests });
      const sqlRestaurant = await createBenchRestaurant(pool, `bench sql ${name}`, opens, closes);
      const httpRestaurant = await createBenchRestaurant(pool, `bench http ${name}`, opens, closes);
      const sql = await bookSql(pool, sqlRestaurant, bookings);
      const viaHttp = await http(api.baseUrl, {
        method: 'POST',
        path: `/api/restaurants/${httpRestaurant}/reservations`,
        apiKey: await keyFor(httpRestaurant),
        amount: bookings.length,
        body,
      }, api.child.pid!);
      const r = ratio(viaHttp, sql);
      ok = ok && r >= 0.7;
      const result: Record<string, unknown> = { sql, http: viaHttp, httpOverSql: Number(r.toFixed(3)) };
      lines.push(`booking, ${name} (${bookings.length} attempts):`);
      lines.push(`  SQL  book_table          ${fmt(sql)}  ${JSON.stringify(sql.statuses)}  ${formatCpu(sql.cpu)}`);
      lines.push(`  HTTP POST /reservations  ${fmt(viaHttp)}  ${JSON.stringify(viaHttp.statuses)}  ${formatCpu(viaHttp.cpu)}`);
      const floorRatios: string[] = [];
      for (const floor of floors) {
        const floorRestaurant = await createBenchRestaurant(pool, `bench ${floor.key} ${name}`, opens, closes);
        const viaFloor = await http(floor.baseUrl, {
          method: 'POST',
          path: `/api/restaurants/${floorRestaurant}/reservations`,
          apiKey: 'none',
          amount: bookings.length,
          body,
        }, floor.child.pid!);
        Object.assign(result, { [floor.key]: viaFloor, [`${floor.key}OverSql`]: Number(ratio(viaFloor, sql).toFixed(3)) });
        lines.push(`  ${floor.label} ${fmt(viaFloor)}  ${JSON.stringify(viaFloor.statuses)}  ${formatCpu(viaFloor.cpu)}`);
        floorRatios.push(`${floor.key}/SQL ${(ratio(viaFloor, sql) * 100).toFixed(0)}%`);
      }
      results[`book_table, ${name}`] = result;
      lines.push(`  HTTP/SQL throughput ${(r * 100).toFixed(0)}% (target >= 70%) ${r >= 0.7 ? '✓' : '✗'}; ${floorRatios.join('; ')}`);
    }

    const restaurant = await createBenchRestaurant(pool, 'bench availability', '12:00', '23:30');
    const { day, reservations } = await fullDay(pool, restaurant);
    const sql1 = await measure(1, { seconds: SECONDS, maxCalls: 20000 }, async () => {
      await pool.query('select * from booking.available_table_counts($1, $2, 4)', [restaurant, day]);
    });
    const sqlN = await metered(() => measure(CONNECTIONS, { seconds: SECONDS, maxCalls: 200000 }, async () => {
      await pool.query('select * from booking.available_table_counts($1, $2, 4)', [restaurant, day]);
    }));
    const viaHttp = await http(api.baseUrl, {
      method: 'GET',
      path: `/api/restaurants/${restaurant}/availability?date=${day}&guests=4`,
      apiKey: await keyFor(restaurant),
      duration: SECONDS,
    }, api.child.pid!);
    const r = ratio(viaHttp, sqlN);
    ok = ok && sql1.p99Ms < 10 && r >= 0.8;
    const result: Record<string, unknown> = { reservations, sqlConcurrency1: sql1, sql: sqlN, http: viaHttp, httpOverSql: Number(r.toFixed(3)) };
    lines.push(`availability, 50 tables, ${reservations} reservations that day:`);
    lines.push(`  SQL  (1 connection)      ${fmt(sql1)}  p99 target < 10 ms ${sql1.p99Ms < 10 ? '✓' : '✗'}`);
    lines.push(`  SQL  (${CONNECTIONS} connections)    ${fmt(sqlN)}  ${formatCpu(sqlN.cpu)}`);
    lines.push(`  HTTP GET /availability   ${fmt(viaHttp)}  ${JSON.stringify(viaHttp.statuses)}  ${formatCpu(viaHttp.cpu)}`);
    const floorRatios: string[] = [];
    for (const floor of floors) {
      const viaFloor = await http(floor.baseUrl, { method: 'GET', path: `/api/restaurants/${restaurant}/availability?date=${day}&guests=4`, apiKey: 'none', duration: SECONDS }, floor.child.pid!);
      Object.assign(result, { [floor.key]: viaFloor, [`${floor.key}OverSql`]: Number(ratio(viaFloor, sqlN).toFixed(3)) });
      lines.push(`  ${floor.label} ${fmt(viaFloor)}  ${JSON.stringify(viaFloor.statuses)}  ${formatCpu(viaFloor.cpu)}`);
      floorRatios.push(`${floor.key}/SQL ${(ratio(viaFloor, sqlN) * 100).toFixed(0)}%`);
    }
    results['availability, 50 tables, full day'] = result;
    lines.push(`  HTTP/SQL throughput ${(r * 100).toFixed(0)}% (target >= 80%) ${r >= 0.8 ? '✓' : '✗'}; ${floorRatios.join('; ')}`);
  } finally {
    for (const floor of floors) floor.child.kill('SIGTERM');
    await api.stop();
    await pool.end();
    await db.close();
  }
  const m = results.machine as ReturnType<typeof machine> & { postgres: string };
  console.log(`nora-reservations benchmark: ${m.cpus} cores (${m.cpu}), Node ${m.node}, PostgreSQL ${m.postgres}, N = ${CONNECTIONS}, API processes ${WORKERS}, load average before ${loadBefore}`);
  console.log(lines.join('\n'));
  console.log(`load average after: ${os.loadavg()[0]!.toFixed(1)}`);
  const file = path.resolve(__dirname, '..', '.data', 'bench', 'last.json');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`targets: ${ok ? 'met' : 'NOT met'} (details in ${path.relative(process.cwd(), file)})`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
