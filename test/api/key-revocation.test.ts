// A revoked API key stops working on every API process within a second, although each caches
// keys for API_KEY_CACHE_TTL_MS (30 s by default): the database notifies the change and every
// process listens. Two API processes on one database (this one, and `server/main.ts` as a child
// process), each with the default cache; again after PostgreSQL dropped every connection, which
// is what a restart looks like to the API (test/faults restarts a real one).
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { loadConfig } from '../../config';
import { createLogger } from '../../server/logger';
import { startApi, type RunningApi } from '../../server/server';
import { startApiProcess, type ApiProcess } from '../../load/server-process';
import { tenant, type Tenant } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let inProcess: RunningApi;
const logged: string[] = [];
let child: ApiProcess;
beforeAll(async () => {
  db = await freshDatabase();
  inProcess = await startApi(loadConfig({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent', RATE_LIMIT_FAILED_AUTH_MAX: '1000' }), createLogger('info', { write: (line: string) => void logged.push(line) }));
  child = await startApiProcess({ databaseUrl: db.url, env: { RATE_LIMIT_FAILED_AUTH_MAX: '1000', API_KEY_CACHE_TTL_MS: '30000' } });
}, 120_000);
afterAll(async () => {
  await child?.stop();
  await inProcess?.close();
  await db?.drop();
});

const urls = () => [inProcess.url, child.baseUrl];

async function status(base: string, key: Tenant): Promise<number> {
  const res = await fetch(`${base}/api/restaurants/${key.id}/clients`, { headers: { authorization: `Bearer ${key.key}` } });
  await res.arrayBuffer();
  return res.status;
}

async function keyId(key: string): Promise<number> {
  const { rows } = await db.pool.query<{ key_id: string }>('select key_id from booking.resolve_api_key($1)', [key]);
  return Number(rows[0]!.key_id);
}

/** Milliseconds until every process answers 401 for the key (polling every 20 ms, up to 5 s). */
async function untilRefusedEverywhere(t: Tenant): Promise<number> {
  const started = performance.now();
  const pending = new Set(urls());
  while (pending.size > 0 && performance.now() - started < 5000) {
    for (const url of [...pending]) if ((await status(url, t)) === 401) pending.delete(url);
    if (pending.size > 0) await sleep(20);
  }
  expect([...pending]).toEqual([]);
  return performance.now() - started;
}

async function listeners(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'nora-api-listen' and query ilike 'listen%'",
  );
  return rows[0]!.n;
}

async function revokeEverywhere(how: (t: Tenant) => Promise<unknown>): Promise<number> {
  const t = await tenant(db);
  // Used (hence cached) on both processes first.
  for (const url of urls()) expect(await status(url, t)).toBe(200);
  for (const url of urls()) expect(await status(url, t)).toBe(200);
  await how(t);
  return untilRefusedEverywhere(t);
}

test('booking.revoke_api_key: both processes answer 401 within 1 s', async () => {
  expect(await listeners()).toBe(2);
  const ms = await revokeEverywhere(async (t) => db.pool.query('select booking.revoke_api_key($1)', [await keyId(t.key)]));
  expect(ms).toBeLessThan(1000);
});

test('any update or delete of booking_private.api_keys reaches both processes too', async () => {
  const updated = await revokeEverywhere(async (t) => db.pool.query('update booking_private.api_keys set revoked_at = now() where id = $1', [await keyId(t.key)]));
  const deleted = await revokeEverywhere(async (t) => db.pool.query('delete from booking_private.api_keys where id = $1', [await keyId(t.key)]));
  expect(Math.max(updated, deleted)).toBeLessThan(1000);
});

test('after the database dropped every connection: both processes listen again, and revocation is as quick', async () => {
  await db.pool.query(
    "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name in ('nora-api', 'nora-api-listen')",
  );
  const started = performance.now();
  while ((await listeners()) < 2 && performance.now() - started < 10_000) await sleep(50);
  expect(await listeners()).toBe(2);
  expect(logged.join('')).toMatch(/"level":40,.*"msg":"API key listener down: revoked keys stay usable until API_KEY_CACHE_TTL_MS has passed; reconnecting"/);
  expect(logged.join('')).toMatch(/"msg":"API key listener: listening again; revocations apply at once"/);
  const ms = await revokeEverywhere(async (t) => db.pool.query('select booking.revoke_api_key($1)', [await keyId(t.key)]));
  expect(ms).toBeLessThan(1000);
});
