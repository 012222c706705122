// The API key listener (server/key-events.ts) in this process, against PostgreSQL: what it hears on
// nora_api_keys, and how it behaves when its connection is lost, cannot be made, or is closed.
// test/api/key-revocation.test.ts shows the whole effect across two API processes.
import { randomBytes } from 'node:crypto';
import { KeyChangeListener, KEY_CHANNEL } from '../../server/key-events';
import { createLogger } from '../../server/logger';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { sleep, waitUntil } from '../support/wait';
import { apiKey, tenant } from './support';

let db: TestDatabase;
const listeners: KeyChangeListener[] = [];
beforeAll(async () => {
  db = await freshDatabase();
});
afterEach(async () => {
  for (const listener of listeners.splice(0)) await listener.close();
});
afterAll(() => db.drop());

interface Heard {
  listener: KeyChangeListener;
  changes: Array<number | null>;
  logged: Array<{ level: number; msg: string; err?: { message?: string } }>;
}

function listen(options: { url?: string; role?: string | null } = {}): Heard {
  const logged: Heard['logged'] = [];
  const logger = createLogger('info', { write: (line: string) => void logged.push(JSON.parse(line)) });
  const listener = new KeyChangeListener({ url: options.url ?? db.url, role: options.role === undefined ? db.apiRole : options.role, logger, retryMinMs: 10, retryMaxMs: 50 });
  const changes: Array<number | null> = [];
  listener.onChange((keyId) => changes.push(keyId));
  listeners.push(listener);
  return { listener, changes, logged };
}

async function until(check: () => boolean): Promise<void> {
  expect(await waitUntil(check)).toBe(true);
}

/** The listener connections left once the ones being closed are gone (a backend takes a moment to exit). */
async function listenConnections(): Promise<number> {
  const count = async () =>
    (await db.pool.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'nora-api-listen'")).rows[0]!.n;
  await waitUntil(async () => (await count()) === 0, 5000);
  return count();
}

const notify = (payload: string) => db.pool.query('select pg_notify($1, $2)', [KEY_CHANNEL, payload]);
const terminate = () =>
  db.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = 'nora-api-listen'");
const DOWN = 'API key listener down: revoked keys stay usable until API_KEY_CACHE_TTL_MS has passed; reconnecting';
const AGAIN = 'API key listener: listening again; revocations apply at once';

test('a key change reaches every subscriber as the key id; an empty or odd payload as "every key"', async () => {
  const { listener, changes } = listen();
  const second: Array<number | null> = [];
  listener.onChange((keyId) => second.push(keyId));
  expect(listener.listening).toBe(false);
  await listener.start();
  expect(listener.listening).toBe(true);
  // Listening from now on: whatever changed before is unknown, so every cached key goes.
  expect(changes).toEqual([null]);
  for (const payload of ['42', '', 'abc', '9007199254740993', '1.5']) await notify(payload);
  const key = await apiKey(db, String((await tenant(db)).id));
  const { rows } = await db.pool.query<{ key_id: string }>('select key_id from booking.resolve_api_key($1)', [key]);
  await db.pool.query('select booking.revoke_api_key($1)', [rows[0]!.key_id]);
  await until(() => changes.length === 7);
  expect(changes).toEqual([null, 42, null, null, null, null, Number(rows[0]!.key_id)]);
  expect(second).toEqual(changes);
});

test('a listener whose connection is lost says so once, reconnects, forgets every key and says it listens again', async () => {
  const { listener, changes, logged } = listen();
  await listener.start();
  await terminate();
  await until(() => logged.some((line) => line.msg === AGAIN));
  expect(listener.listening).toBe(true);
  expect(logged.map((line) => [line.level, line.msg])).toEqual([
    [40, DOWN],
    [30, AGAIN],
  ]);
  expect(logged[0]!.err?.message).toEqual(expect.any(String));
  expect(changes).toEqual([null, null]);
  await notify('7');
  await until(() => changes.length === 3);
  expect(changes[2]).toBe(7);
  // Lost again later: said again.
  await terminate();
  await until(() => logged.length === 4);
  expect(logged.map((line) => line.msg)).toEqual([DOWN, AGAIN, DOWN, AGAIN]);
});

test('a listener that cannot connect at start keeps trying, warning once, until it can', async () => {
  const name = `nora_later_${randomBytes(4).toString('hex')}`;
  const url = new URL(db.url);
  url.pathname = `/${name}`;
  const { listener, changes, logged } = listen({ url: url.toString(), role: null });
  await listener.start();
  expect(listener.listening).toBe(false);
  await sleep(200);
  expect(logged.map((line) => line.msg)).toEqual([DOWN]);
  await db.pool.query(`create database ${name}`);
  try {
    await until(() => listener.listening);
    expect(logged.map((line) => line.msg)).toEqual([DOWN, AGAIN]);
    expect(changes).toEqual([null]);
  } finally {
    await listener.close();
    await db.pool.query(`drop database ${name}`);
  }
});

test('a role the connection cannot take is a connection that fails', async () => {
  const { listener, logged } = listen({ role: 'nora_no_such_role' });
  await listener.start();
  expect(listener.listening).toBe(false);
  expect(logged[0]).toMatchObject({ msg: DOWN, err: { message: expect.stringContaining('nora_no_such_role') } });
  await listener.close();
});

test('once closed, a listener neither listens nor reconnects, nor tells anyone', async () => {
  const { listener, changes, logged } = listen();
  await listener.start();
  await listener.close();
  expect(listener.listening).toBe(false);
  await notify('5');
  await sleep(200);
  expect(await listenConnections()).toBe(0);
  expect(changes).toEqual([null]);
  expect(logged).toEqual([]);

  const retrying = listen({ role: 'nora_no_such_role' });
  await retrying.listener.start();
  await retrying.listener.close();
  const warnings = retrying.logged.length;
  await sleep(200);
  expect(retrying.logged).toHaveLength(warnings);
  expect(retrying.listener.listening).toBe(false);
});

test('a listener closed while it connects does not stay connected', async () => {
  const { listener, changes } = listen();
  const starting = listener.start();
  await listener.close();
  await starting;
  expect(listener.listening).toBe(false);
  expect(await listenConnections()).toBe(0);
  expect(changes).toEqual([]);
});
