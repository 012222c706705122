// 429 with the standard RateLimit headers (IETF draft 8: policy "per-key") and Retry-After once a
// key spends its window, counted per key: in process memory by default, in Redis when REDIS_URL
// is set. Unknown keys spend the address's "failed-auth" budget, shown the same way. A Redis that
// goes away leaves the counts to this process's memory until it is back.
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import pino from 'pino';
import { createClient } from 'redis';
import request from 'supertest';
import { freePort } from '../../db/postgres';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { hasRedisServer, REDIS_SERVER, startRedis, type TestRedis } from '../support/redis';
import { connectRedisStore, type SharedStore } from '../../server/rate-limit';
import { waitUntil } from '../support/wait';
import { startTestApi, tenant, type ApiUnderTest, type Tenant } from './support';

if (!hasRedisServer) console.warn(`${REDIS_SERVER} is missing: the Redis rate-limit tests are SKIPPED (apt-get install redis-server)`);
const withRedis = hasRedisServer ? test : test.skip;

let db: TestDatabase;
let redis: TestRedis | undefined;
beforeAll(async () => {
  db = await freshDatabase();
  if (hasRedisServer) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await db.drop();
});

/** A GET from a loopback address of our choice (all of 127/8 is this machine). */
function statusFrom(localAddress: string, url: string, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = httpGet(url, { localAddress, headers: { authorization: `Bearer ${key}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    call.on('error', reject);
  });
}

async function exhaust(t: ApiUnderTest, one: Tenant, other: Tenant): Promise<void> {
  const path = (r: Tenant) => `/api/restaurants/${r.id}/clients`;
  for (let i = 0; i < 3; i++) {
    const ok = await t.api.get(path(one), one.key).expect(200);
    expect(ok.headers['ratelimit']).toMatch(new RegExp(`^"per-key"; r=${2 - i}; t=([1-9]|[1-5][0-9]|60)$`));
    expect(ok.headers['ratelimit-policy']).toMatch(/^"per-key"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
  }
  const limited = await t.api.get(path(one), one.key).expect(429);
  expect(limited.body.error).toEqual({
    code: 'rate_limited',
    message: 'Too many requests for this API key.',
    details: { reason: 'rate_limited' },
    hint: 'Wait until the RateLimit reset, then retry.',
  });
  // Only the standard headers: none of the older X-RateLimit-* ones.
  expect(Object.keys(limited.headers).filter((name) => name.startsWith('x-ratelimit'))).toEqual([]);
  expect(limited.headers['ratelimit']).toMatch(/^"per-key"; r=0; t=\d+$/);
  expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  await t.api.get(path(other), other.key).expect(200);
}

test('the memory store limits each API key separately', async () => {
  const t = await startTestApi({ db, env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' } });
  try {
    await exhaust(t, await tenant(db), await tenant(db));
  } finally {
    await t.close();
  }
});

withRedis('the Redis store shares the counts between two API processes', async () => {
  const prefix = `nora-test-${randomBytes(4).toString('hex')}:`;
  const stores: SharedStore[] = [await connectRedisStore(redis!.url, prefix), await connectRedisStore(redis!.url, prefix)];
  const env = { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
  const first = await startTestApi({ db, env, rateLimitStore: stores[0]!.store });
  const second = await startTestApi({ db, env, rateLimitStore: stores[1]!.store });
  try {
    const one = await tenant(db);
    await first.api.get(`/api/restaurants/${one.id}/clients`, one.key).expect(200);
    await second.api.get(`/api/restaurants/${one.id}/clients`, one.key).expect(200);
    await first.api.get(`/api/restaurants/${one.id}/clients`, one.key).expect(200);
    await second.api.get(`/api/restaurants/${one.id}/clients`, one.key).expect(429);
    await exhaust(first, await tenant(db), await tenant(db));
  } finally {
    await first.close();
    await second.close();
    for (const store of stores) await store.close();
  }
});

test('an address that keeps presenting unknown keys sees its failed-auth budget shrink, then 429, while a key this process knows still works', async () => {
  // The burst below waits for pooled connections: on a loaded machine longer than the default 5 s,
  // which would answer 503 and say nothing about authentication.
  const t = await startTestApi({
    db,
    env: { RATE_LIMIT_FAILED_AUTH_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000', API_KEY_CACHE_TTL_MS: '60000', DB_CONNECTION_TIMEOUT_MS: '60000' },
  });
  try {
    const one = await tenant(db);
    const path = `/api/restaurants/${one.id}/clients`;
    // Only failed lookups count: a burst with a working key is never refused.
    const burst = await Promise.all(Array.from({ length: 20 }, () => t.api.get(path, one.key)));
    expect(burst.map((r) => r.status)).toEqual(Array(20).fill(200));
    // The seconds until the window ends: 1 to 60 here.
    const T = '([1-9]|[1-5][0-9]|60)';
    const noKey = await t.api.get(path).expect(401);
    expect(noKey.headers['ratelimit']).toMatch(new RegExp(`^"failed-auth"; r=2; t=${T}$`));
    expect(noKey.headers['ratelimit-policy']).toBe('"failed-auth"; q=2; w=60');
    const first = await t.api.get(path, 'nora_guess1').expect(401);
    expect(first.headers['ratelimit']).toMatch(new RegExp(`^"failed-auth"; r=1; t=${T}$`));
    const second = await t.api.get(path, 'nora_guess2').expect(401);
    expect(second.headers['ratelimit']).toMatch(new RegExp(`^"failed-auth"; r=0; t=${T}$`));
    const refused = await t.api.get(path, 'nora_guess3').expect(429);
    expect(refused.body.error).toEqual({
      code: 'rate_limited',
      message: 'Too many requests with unknown API keys from this address.',
      details: { reason: 'too_many_failed_authentications' },
      hint: 'Check the API key, then retry later.',
    });
    const [, seconds] = /^"failed-auth"; r=0; t=(\d+)$/.exec(refused.headers['ratelimit'] as string)!;
    expect(seconds).toMatch(new RegExp(`^${T}$`));
    expect(refused.headers['retry-after']).toBe(seconds);
    // Another address has its own budget.
    expect(await statusFrom('127.0.0.2', `${t.url}${path}`, 'nora_guess4')).toBe(401);
    await t.api.get(path, one.key).expect(200);
  } finally {
    await t.close();
  }
});

withRedis('a Redis that goes away leaves the counts to memory, logged once, and shares them again once it is back', async () => {
  const logged: Array<{ level: number; msg: string; err?: { message?: string } }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const shared = await connectRedisStore(redis!.url, `nora-test-${randomBytes(4).toString('hex')}:`, logger);
  const { store } = shared;
  // Tells express-rate-limit the counts are not this process's alone.
  expect(store.localKeys).toBe(false);
  store.init?.({ windowMs: 60_000 } as Parameters<NonNullable<typeof store.init>>[0]);
  try {
    expect((await store.increment('k')).totalHits).toBe(1);
    expect((await store.increment('k')).totalHits).toBe(2);
    await redis!.stop();
    expect((await store.increment('k')).totalHits).toBe(1);
    expect((await store.increment('k')).totalHits).toBe(2);
    await store.decrement('k');
    expect((await store.get!('k'))?.totalHits).toBe(1);
    await store.resetKey('k');
    expect(await store.get!('k')).toBeUndefined();
    await store.increment('k');
    await store.increment('k');
    expect(logged.map((l) => [l.level, l.msg])).toEqual([[40, 'rate limiter degraded: Redis unreachable, limits are counted per process until it is back']]);
    expect(logged[0]!.err?.message).toEqual(expect.any(String));
    await redis!.start();
    await waitUntil(() => logged.length >= 2);
    expect(logged.map((l) => [l.level, l.msg])[1]).toEqual([30, 'rate limiter: Redis is back, limits are shared again']);
    // A fresh Redis: its count starts again, and not from the memory's 2.
    expect((await store.increment('k')).totalHits).toBe(1);
    await store.increment('k');
    await store.decrement('k');
    expect((await store.get!('k'))?.totalHits).toBe(1);
    await store.resetKey('k');
    expect((await store.increment('k')).totalHits).toBe(1);
    expect(logged).toHaveLength(2);
  } finally {
    await shared.close();
  }
});

withRedis('a Redis that does not answer at start-up fails the start, and is not reported as a degraded limiter', async () => {
  const logged: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
  await expect(connectRedisStore(`redis://127.0.0.1:${await freePort()}`, 'nora-rl:', logger)).rejects.toThrow(/^Redis unreachable: /);
  expect(logged).toEqual([]);
});

withRedis('the counts live under nora-rl: in Redis, the failed authentications under nora-rl:failed-auth:', async () => {
  const shared = await connectRedisStore(redis!.url);
  const raw = createClient({ url: redis!.url });
  await raw.connect();
  try {
    for (const store of [shared.store, shared.failures]) store.init?.({ windowMs: 60_000 } as Parameters<NonNullable<typeof store.init>>[0]);
    const name = `k-${randomBytes(4).toString('hex')}`;
    await shared.store.increment(name);
    await shared.failures.increment(name);
    await shared.failures.increment(name);
    expect(await raw.get(`nora-rl:${name}`)).toBe('1');
    expect(await raw.get(`nora-rl:failed-auth:${name}`)).toBe('2');
  } finally {
    raw.destroy();
    await shared.close();
  }
});

test('a rate-limit store that fails lets the request through', async () => {
  const broken = {
    init: () => undefined,
    increment: () => Promise.reject(new Error('store down')),
    decrement: () => Promise.reject(new Error('store down')),
    resetKey: () => Promise.reject(new Error('store down')),
  };
  // express-rate-limit says so on the console itself.
  const said = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const t = await startTestApi({ db, env: { RATE_LIMIT_MAX: '1' }, rateLimitStore: broken });
  try {
    const one = await tenant(db);
    // Not through the contract check: without a count there is no RateLimit header to send.
    for (let i = 0; i < 3; i++) await request(t.server).get(`/api/restaurants/${one.id}/clients`).set('Authorization', `Bearer ${one.key}`).expect(200);
    expect(said).toHaveBeenCalledWith(expect.stringContaining('error from store, allowing request without rate-limiting'), expect.any(Error));
  } finally {
    said.mockRestore();
    await t.close();
  }
});
