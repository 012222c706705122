// API_WORKERS=2: `server/main.ts` prepares the database once and runs two API processes on one
// port, each with its own pool and key listener; one that dies is replaced; SIGTERM stops them
// all and the primary exits.
import { readdirSync, readFileSync } from 'node:fs';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { startApiProcess, type ApiProcess } from '../../load/server-process';
import { tenant } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let api: ApiProcess;
beforeAll(async () => {
  db = await freshDatabase();
  // Small pools: the test is about supervising processes, and PostgreSQL 15's 100 connections
  // are shared with the test file running beside it.
  api = await startApiProcess({ databaseUrl: db.url, env: { API_WORKERS: '2', DB_POOL_SIZE: '4' } });
}, 120_000);
afterAll(async () => {
  await api?.stop();
  await db?.drop();
});

/** Node processes whose parent is the primary. */
function workers(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === api.child.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('server/main.ts')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function listeners(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'nora-api-listen'",
  );
  return rows[0]!.n;
}

async function until(check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const started = performance.now();
  while (!(await check()) && performance.now() - started < ms) await sleep(100);
}

test('two API processes serve one port; a dead one is replaced; SIGTERM stops them all', async () => {
  expect(api.output()).toMatch(/API processes: 2/);
  await until(async () => (await listeners()) === 2);
  expect(await listeners()).toBe(2);
  expect(workers()).toHaveLength(2);
  const t = await tenant(db);
  const statuses = await Promise.all(
    Array.from({ length: 20 }, () => fetch(`${api.baseUrl}/api/restaurants/${t.id}/clients`, { headers: { authorization: `Bearer ${t.key}` } }).then((r) => r.status)),
  );
  expect(new Set(statuses)).toEqual(new Set([200]));

  const [first] = workers();
  process.kill(first!, 'SIGKILL');
  // One reading of /proc for both the wait and the assertions: a replacement between fork and
  // exec shows the primary's command line, and during its exec briefly none, so two readings
  // can disagree.
  let now: number[] = [];
  await until(() => {
    now = workers();
    return now.length === 2 && !now.includes(first!);
  });
  expect(now).toHaveLength(2);
  expect(now).not.toContain(first);
  await until(async () => (await listeners()) === 2);
  expect(await listeners()).toBe(2);
  expect((await fetch(`${api.baseUrl}/api/restaurants/${t.id}/clients`, { headers: { authorization: `Bearer ${t.key}` } })).status).toBe(200);

  await api.stop();
  expect(api.child.exitCode).toBe(0);
  await until(async () => (await listeners()) === 0, 5000);
  expect(await listeners()).toBe(0);
});
