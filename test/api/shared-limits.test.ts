// With REDIS_URL, two API processes (this one, and `server/main.ts` as a child process) share the
// per-key limit and the failed-authentication guard: they hold in total, not per process. Redis
// stopped mid-run: requests are still served (no 5xx), the log says the limiter is degraded, and
// the shared limits resume once Redis is back. Needs Debian's redis-server (.ci/run installs it).
import { randomBytes } from 'node:crypto';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { hasRedisServer, REDIS_SERVER, startRedis, type TestRedis } from '../support/redis';
import { loadConfig } from '../../config';
import { createLogger } from '../../server/logger';
import { startApi, type RunningApi } from '../../server/server';
import { startApiProcess, type ApiProcess } from '../../load/server-process';
import { tenant, type Tenant } from './support';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX = 6;
const FAILED_AUTH_MAX = 4;

if (!hasRedisServer) console.warn(`${REDIS_SERVER} is missing: the shared-limit tests are SKIPPED (apt-get install redis-server)`);
const maybe = hasRedisServer ? describe : describe.skip;

maybe('limits shared through Redis', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  let inProcess: RunningApi;
  let child: ApiProcess;
  const logged: string[] = [];
  beforeAll(async () => {
    db = await freshDatabase();
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_FAILED_AUTH_MAX: String(FAILED_AUTH_MAX), RATE_LIMIT_WINDOW_MS: '60000' };
    inProcess = await startApi(loadConfig({ ...env, DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'info' }), createLogger('info', { write: (line: string) => void logged.push(line) }));
    child = await startApiProcess({ databaseUrl: db.url, env: { ...env, LOG_LEVEL: 'info' } });
  }, 120_000);
  afterAll(async () => {
    await child?.stop();
    await inProcess?.close();
    await redis?.stop();
    await db?.drop();
  });

  const urls = () => [inProcess.url, child.baseUrl];

  async function get(base: string, restaurantId: number, key: string): Promise<number> {
    const res = await fetch(`${base}/api/restaurants/${restaurantId}/clients`, { headers: { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    return res.status;
  }

  /** Requests with one key, alternating between the processes. */
  async function alternate(t: Tenant, n: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += 1) statuses.push(await get(urls()[i % 2]!, t.id, t.key));
    return statuses;
  }

  const unknownKey = () => `nora_${randomBytes(32).toString('hex')}`;

  test('the per-key limit holds in total across both processes', async () => {
    const t = await tenant(db);
    expect(await alternate(t, MAX + 2)).toEqual([...Array<number>(MAX).fill(200), 429, 429]);
  });

  test('Redis stopped mid-run: served without 5xx, the log says degraded; Redis back: limits shared again', async () => {
    const t = await tenant(db);
    expect(await alternate(t, 2)).toEqual([200, 200]);
    await redis.stop();
    // Served throughout, counted per process meanwhile: each process allows MAX on its own.
    const during = await alternate(t, 2 * MAX + 2);
    expect(during.filter((s) => s >= 500)).toEqual([]);
    expect(during.filter((s) => s === 200).length).toBeGreaterThanOrEqual(MAX);
    for (const url of urls()) expect(await get(url, 1, unknownKey())).toBe(401);
    const degraded = /rate limiter degraded: Redis unreachable/;
    expect(logged.join('')).toMatch(degraded);
    expect(child.output()).toMatch(degraded);

    await redis.start();
    const back = /rate limiter: Redis is back, limits are shared again/;
    const started = performance.now();
    while (!(back.test(logged.join('')) && back.test(child.output())) && performance.now() - started < 10_000) await sleep(100);
    expect(logged.join('')).toMatch(back);
    expect(child.output()).toMatch(back);
    const fresh = await tenant(db);
    expect(await alternate(fresh, MAX + 2)).toEqual([...Array<number>(MAX).fill(200), 429, 429]);
  });

  // Last: the address's budget is spent afterwards (and any key this process does not know yet is refused).
  test('an address presenting unknown keys is refused by both processes after RATE_LIMIT_FAILED_AUTH_MAX in total', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < FAILED_AUTH_MAX + 2; i += 1) statuses.push(await get(urls()[i % 2]!, 1, unknownKey()));
    expect(statuses).toEqual([...Array<number>(FAILED_AUTH_MAX).fill(401), 429, 429]);
  });
});
