// Shared by the benchmarks: a throwaway migrated database, benchmark restaurants, and a
// closed-loop measurement of calls per second and latency percentiles.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { loadConfig } from '../config';
import { createDatabase, dropDatabase, makeTemporaryDataDir, startEmbedded, withDatabase } from '../db/postgres';
import { migrateDatabase } from '../db/migrate';
import { createCitusDatabase, dropCitusDatabase } from '../db/citus';
import { distributeDatabase } from '../db/distribute';

export interface BenchDatabase {
  url: string;
  apiRole: string;
  serverVersion: string;
  close(): Promise<void>;
}

/**
 * A Citus target for the benchmarks (BENCH_TARGET=citus, DATABASE_URL at a coordinator as
 * `npm run citus:local` prints): a fresh database distributed as `db:distribute` does, and, to
 * compare in the same run, a plain database on the coordinator's own server (same PostgreSQL,
 * same machine, not distributed).
 */
export async function openCitusBenchDatabases(): Promise<{ single: BenchDatabase; citus: BenchDatabase }> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('BENCH_TARGET=citus needs DATABASE_URL at a Citus coordinator (npm run citus:local prints one)');
  const adminUrl = withDatabase(config.databaseUrl, 'postgres');
  const open = async (name: string, distributed: boolean): Promise<BenchDatabase> => {
    const url = withDatabase(adminUrl, name);
    if (distributed) await createCitusDatabase(adminUrl, name, new URL(adminUrl).hostname);
    else await createDatabase(adminUrl, name);
    await migrateDatabase({ databaseUrl: url, apiRole: config.apiRole });
    if (distributed) await distributeDatabase(url, config.apiRole);
    return {
      url,
      apiRole: config.apiRole,
      serverVersion: await serverVersion(url),
      close: () => (distributed ? dropCitusDatabase(adminUrl, name) : dropDatabase(adminUrl, name)),
    };
  };
  // The distributed one first: its migration creates the API role through Citus, on every node.
  const citus = await open(`nora_bench_${process.pid}_citus`, true);
  const single = await open(`nora_bench_${process.pid}_single`, false).catch(async (error: unknown) => {
    await citus.close();
    throw error;
  });
  return { single, citus };
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
  } finally {
    await client.end();
  }
}

/** A fresh migrated database on DATABASE_URL's server, or on a throwaway embedded PostgreSQL. */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const config = loadConfig();
  let adminUrl: string;
  let stop = async () => {};
  if (config.databaseUrl) {
    adminUrl = withDatabase(config.databaseUrl, 'postgres');
  } else {
    const server = await startEmbedded({ dataDir: await makeTemporaryDataDir(), persistent: false });
    adminUrl = server.adminUrl;
    stop = () => server.stop();
  }
  const name = `nora_bench_${process.pid}`;
  await createDatabase(adminUrl, name);
  const url = withDatabase(adminUrl, name);
  await migrateDatabase({ databaseUrl: url, apiRole: config.apiRole });
  return {
    url,
    apiRole: config.apiRole,
    serverVersion: await serverVersion(url),
    close: async () => {
      await dropDatabase(adminUrl, name);
      await stop();
    },
  };
}

/**
 * One statement on a pooled connection. pg's `pool.query` closes the connection after any error,
 * so every expected refusal (PT409) would cost a reconnect; a refused statement leaves the
 * connection perfectly usable, and only a connection-level failure should retire it.
 */
export async function query<T extends pg.QueryResultRow = pg.QueryResultRow>(pool: pg.Pool, sql: string, params: unknown[]): Promise<pg.QueryResult<T>> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await client.query<T>(sql, params);
  } catch (error) {
    if (!(error as pg.DatabaseError).code) broken = error as Error;
    throw error;
  } finally {
    client.release(broken);
  }
}

/** 50 tables of 2 to 8 seats, open every day from `opens` to `closes` (local, Europe/Madrid). */
export async function createBenchRestaurant(pool: pg.Pool, name: string, opens: string, closes: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    "insert into booking.restaurants (name, timezone, booking_horizon_days) values ($1, 'Europe/Madrid', 730) returning id",
    [name],
  );
  const id = rows[0]!.id;
  await pool.query(
    `insert into booking.opening_hours (restaurant_id, weekday, opens, closes)
     select $1, d, $2, $3 from generate_series(1, 7) d`,
    [id, opens, closes],
  );
  await pool.query(
    `insert into booking.tables (restaurant_id, name, capacity, min_guests)
     select $1, 'T' || n, (array[2, 2, 4, 4, 6, 8])[1 + n % 6], 1 from generate_series(1, 50) n`,
    [id],
  );
  return id;
}

/** The instant of local `time` on the day `days` from today, in Europe/Madrid. */
export async function madridInstant(pool: pg.Pool, days: number, time: string): Promise<string> {
  const { rows } = await pool.query<{ at: Date }>(
    "select ((now() at time zone 'Europe/Madrid')::date + $1::int + $2::time) at time zone 'Europe/Madrid' as at",
    [days, time],
  );
  return rows[0]!.at.toISOString();
}

export interface Measurement {
  calls: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarize(latencies: number[], seconds: number): Measurement {
  const sorted = [...latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    calls: sorted.length,
    seconds: round(seconds),
    perSecond: round(sorted.length / seconds),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
  };
}

/**
 * Runs `call` from `workers` concurrent loops until `seconds` have passed or `maxCalls` were
 * made; each worker gets its own index. Returns the latency summary.
 */
export async function measure(
  workers: number,
  limits: { seconds: number; maxCalls: number },
  call: (worker: number, n: number) => Promise<void>,
): Promise<Measurement> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + limits.seconds * 1000;
  let issued = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < deadline && issued < limits.maxCalls) {
        const n = issued++;
        const t0 = performance.now();
        await call(worker, n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return summarize(latencies, (performance.now() - started) / 1000);
}

export function machine(): { cpus: number; cpu: string; node: string } {
  return { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version };
}

/**
 * A benchmark server in a child process of its own (`node --import tsx <script> <args>`), which
 * prints `PORT <n>` once it listens; the child runs until it is sent SIGTERM.
 */
export async function startServerProcess(script: string, args: string[], cwd?: string): Promise<{ baseUrl: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
  });
  return { baseUrl: `http://127.0.0.1:${port}`, child };
}

/** user + system CPU milliseconds of a process and all its descendants (Linux /proc). */
export function cpuMsOfTree(pid: number): number {
  const stats = new Map<number, { ppid: number; ms: number }>();
  const tick = 10; // USER_HZ is 100 on Linux
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // utime + stime, and cutime + cstime: the children it has reaped (PostgreSQL's backends
      // that ended), which no longer appear in /proc.
      stats.set(Number(entry), { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * tick });
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, { ppid }] of stats) if (tree.has(ppid) && !tree.has(child)) grew = tree.add(child).size > 0;
  }
  return [...tree].reduce((sum, p) => sum + (stats.get(p)?.ms ?? 0), 0);
}

/** The postmaster's pid when PostgreSQL runs on this machine (its backends are its children), else null. */
export async function postmasterPid(pool: pg.Pool): Promise<number | null> {
  const { rows } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
  try {
    const text = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** CPU milliseconds per call of each party to a phase: this process (the client), PostgreSQL and the API. */
export interface CpuPerCall {
  client: number;
  postgres: number | null;
  api: number | null;
}

/**
 * Starts counting the CPU of the parties to a phase; the returned function divides what each
 * used by the calls made. On two shared cores the throughput of a CPU-bound phase is about
 * cores / (the sum of these), so the sums tell why one path is faster than another.
 */
export function cpuMeter(parties: { postgres: number | null; api?: number }): (calls: number) => CpuPerCall {
  const client = process.cpuUsage();
  const postgres = parties.postgres === null ? null : cpuMsOfTree(parties.postgres);
  const api = parties.api === undefined ? null : cpuMsOfTree(parties.api);
  return (calls) => {
    const per = (ms: number) => Math.round((ms / Math.max(1, calls)) * 1000) / 1000;
    const used = process.cpuUsage(client);
    return {
      client: per((used.user + used.system) / 1000),
      postgres: postgres === null ? null : per(cpuMsOfTree(parties.postgres!) - postgres),
      api: api === null ? null : per(cpuMsOfTree(parties.api!) - api),
    };
  };
}

export function formatCpu(cpu: CpuPerCall): string {
  const parts = [`client ${cpu.client}`, cpu.postgres === null ? null : `PostgreSQL ${cpu.postgres}`, cpu.api === null ? null : `API ${cpu.api}`].filter(Boolean);
  const total = cpu.client + (cpu.postgres ?? 0) + (cpu.api ?? 0);
  return `CPU ms/call: ${parts.join(' + ')} = ${total.toFixed(3)}`;
}
