// A revoked key stops working on two API processes within a second, before and after a real
// PostgreSQL restart: each process's key listener reconnects and listens again (and says in the
// log that it was down meanwhile).
import { startApiProcess, type ApiProcess } from '../../load/server-process';
import { startFaultStack, type FaultStack } from './stack';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let stack: FaultStack;
let second: ApiProcess;
beforeAll(async () => {
  stack = await startFaultStack({ LOG_LEVEL: 'info' });
  second = await startApiProcess({ databaseUrl: stack.url, env: { RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  await second?.stop();
  await stack?.close();
});

const urls = () => [stack.api.baseUrl, second.baseUrl];

async function status(base: string, restaurant: number, key: string): Promise<number> {
  const res = await fetch(`${base}/api/restaurants/${restaurant}/clients`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

async function listeners(): Promise<number> {
  const { rows } = await stack.pool.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'nora-api-listen' and query ilike 'listen%'",
  );
  return rows[0]!.n;
}

/** A new key used (hence cached) on both processes, revoked by SQL: ms until both answer 401. */
async function revokeEverywhere(): Promise<number> {
  const restaurant = Number(stack.target.mixed.id);
  const { rows } = await stack.pool.query<{ key: string }>("select booking.create_api_key($1, 'restart') as key", [restaurant]);
  const key = rows[0]!.key;
  for (const url of urls()) {
    // Right after a restart the pool may still be reconnecting: wait for the first 200.
    for (let i = 0; i < 100 && (await status(url, restaurant, key)) !== 200; i += 1) await sleep(100);
    expect(await status(url, restaurant, key)).toBe(200);
  }
  await stack.pool.query('select booking.revoke_api_key(key_id) from booking.resolve_api_key($1)', [key]);
  const started = performance.now();
  const pending = new Set(urls());
  while (pending.size > 0 && performance.now() - started < 5000) {
    for (const url of [...pending]) if ((await status(url, restaurant, key)) === 401) pending.delete(url);
    if (pending.size > 0) await sleep(20);
  }
  expect([...pending]).toEqual([]);
  return performance.now() - started;
}

test('revocation within 1 s on both processes, before and after PostgreSQL restarts', async () => {
  expect(await listeners()).toBe(2);
  expect(await revokeEverywhere()).toBeLessThan(1000);

  await stack.stopPostgres();
  await sleep(1000);
  await stack.startPostgres();
  const started = performance.now();
  while ((await listeners().catch(() => 0)) < 2 && performance.now() - started < 20_000) await sleep(100);
  expect(await listeners()).toBe(2);
  expect(await revokeEverywhere()).toBeLessThan(1000);

  for (const output of [stack.api.output(), second.output()]) {
    expect(output).toMatch(/API key listener down: revoked keys stay usable until API_KEY_CACHE_TTL_MS has passed/);
    expect(output).toMatch(/API key listener: listening again; revocations apply at once/);
  }
});
