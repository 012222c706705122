// How the API reads a key (Authorization: Bearer), what it answers without a usable one, and how
// long it trusts a key it has looked up: API_KEY_CACHE_TTL_MS, unless a key change (a revocation
// heard from the database) makes it forget the key sooner.
import type { Server } from 'node:http';
import { createLogger } from '../../server/logger';
import { createApp } from '../../server/app';
import { queries } from '../../server/db';
import type { KeyChanges } from '../../server/key-events';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { apiKey, client, startTestApi, tenant, testConfig, type ApiUnderTest } from './support';

let db: TestDatabase;
let t: ApiUnderTest;
let restaurantId: number;
beforeAll(async () => {
  db = await freshDatabase();
  t = await startTestApi({ db });
  restaurantId = (await tenant(db)).id;
});
afterAll(async () => {
  await t.close();
  await db.drop();
});

const clients = () => `/api/restaurants/${restaurantId}/clients`;
const UNAUTHORIZED = { code: 'unauthorized', details: { reason: 'unauthorized' }, hint: 'Send Authorization: Bearer <API key>.' };

async function revoke(key: string): Promise<void> {
  await db.pool.query('select booking.revoke_api_key(key_id) from booking.resolve_api_key($1)', [key]);
}

async function keyIdOf(key: string): Promise<number> {
  const { rows } = await db.pool.query<{ key_id: string }>('select key_id from booking.resolve_api_key($1)', [key]);
  return Number(rows[0]!.key_id);
}

describe('reading the key', () => {
  let key: string;
  beforeAll(async () => {
    key = await apiKey(db, String(restaurantId));
  });
  const get = (authorization: string) => t.api.get(clients()).set('Authorization', authorization);

  test('the scheme is case-insensitive and may be followed by several spaces', async () => {
    await get(`bearer ${key}`).expect(200);
    await get(`BEARER   ${key}`).expect(200);
  });

  test.each([
    ['another scheme', () => `Basic ${key}`],
    ['something before the scheme', () => `xBearer ${key}`],
    ['a space inside the key', () => `Bearer ${key} more`],
    ['a key of 513 characters', () => `Bearer ${'k'.repeat(513)}`],
    ['no key at all', () => 'Bearer '],
  ])('%s is no key: 401 "An API key is required."', async (_name, header) => {
    const res = await get(header()).expect(401);
    expect(res.body.error).toEqual({ ...UNAUTHORIZED, message: 'An API key is required.' });
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  test('a well-formed key of 512 characters that matches none is looked up: 401 "unknown or revoked"', async () => {
    const res = await get(`Bearer ${'k'.repeat(512)}`).expect(401);
    expect(res.body.error).toEqual({ ...UNAUTHORIZED, message: 'The API key is unknown or revoked.' });
  });

  test("another restaurant's key is 403 with the contract's words", async () => {
    const res = await get(`Bearer ${(await tenant(db)).key}`).expect(403);
    expect(res.body.error).toEqual({
      code: 'forbidden',
      message: 'This API key may not act for that restaurant.',
      details: { reason: 'other_restaurant' },
      hint: "Use the restaurant's own API key.",
    });
  });
});

describe('the key cache', () => {
  /** Key changes as the test announces them, in place of the database's notifications. */
  class Announcer implements KeyChanges {
    private listeners: Array<(keyId: number | null) => void> = [];
    onChange(listener: (keyId: number | null) => void): void {
      this.listeners.push(listener);
    }
    announce(keyId: number | null): void {
      for (const listener of this.listeners) listener(keyId);
    }
  }

  let lookups: number;
  let duringLookup: (() => void) | undefined;
  const servers: Server[] = [];
  afterAll(() => {
    for (const server of servers) server.close();
  });

  function cachingApi(ttlMs: number, keyChanges?: KeyChanges) {
    const config = testConfig(db.url, { API_KEY_CACHE_TTL_MS: String(ttlMs) });
    const real = queries(t.database);
    const counted = {
      ...real,
      resolveApiKey: async (key: string) => {
        lookups += 1;
        const scope = await real.resolveApiKey(key);
        duringLookup?.();
        return scope;
      },
    };
    const app = createApp({ config, queries: counted, logger: createLogger('silent'), committedMigrations: [], keyChanges });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    return client(server);
  }

  beforeEach(() => {
    lookups = 0;
    duringLookup = undefined;
  });

  test('keys are looked up once per TTL: revoked keys keep working until it runs out', async () => {
    const api = cachingApi(60_000);
    const [first, second] = [await apiKey(db, String(restaurantId)), await apiKey(db, String(restaurantId))];
    await api.get(clients(), first).expect(200);
    await api.get(clients(), second).expect(200);
    await revoke(first);
    await revoke(second);
    await api.get(clients(), first).expect(200);
    await api.get(clients(), second).expect(200);
    expect(lookups).toBe(2);
    const brief = cachingApi(200);
    const third = await apiKey(db, String(restaurantId));
    await brief.get(clients(), third).expect(200);
    await revoke(third);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await brief.get(clients(), third).expect(401);
  });

  test('with a TTL of 0 every request looks its key up', async () => {
    const api = cachingApi(0);
    const key = await apiKey(db, String(restaurantId));
    await api.get(clients(), key).expect(200);
    await api.get(clients(), key).expect(200);
    expect(lookups).toBe(2);
  });

  test("a key's change makes the cache forget that key alone; a change of every key, all of them", async () => {
    const changes = new Announcer();
    const api = cachingApi(60_000, changes);
    const [first, second, third] = [await apiKey(db, String(restaurantId)), await apiKey(db, String(restaurantId)), await apiKey(db, String(restaurantId))];
    for (const key of [first, second, third]) await api.get(clients(), key).expect(200);
    const firstId = await keyIdOf(first);
    for (const key of [first, second, third]) await revoke(key);
    changes.announce(firstId);
    await api.get(clients(), first).expect(401);
    await api.get(clients(), second).expect(200);
    await api.get(clients(), third).expect(200);
    changes.announce(null);
    await api.get(clients(), second).expect(401);
    await api.get(clients(), third).expect(401);
  });

  test('a lookup that a key change overtook is not cached', async () => {
    const changes = new Announcer();
    const api = cachingApi(60_000, changes);
    const key = await apiKey(db, String(restaurantId));
    duringLookup = () => changes.announce(null);
    await api.get(clients(), key).expect(200);
    duringLookup = undefined;
    await api.get(clients(), key).expect(200);
    await api.get(clients(), key).expect(200);
    expect(lookups).toBe(2);
  });
});
