// server/db.ts against a real PostgreSQL: how the API's connections are set up, which one it
// connects to, statements prepared once per text, connection failures, retries of a call that
// lost a race, and the Citus helpers' SQL (which is plain PostgreSQL, so it runs here too; the
// Citus suite runs the path that uses it).
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../config';
import { apiDatabaseOptions, Database, listenDatabaseOptions, type DatabaseOptions } from '../../server/db';
import { createLogger } from '../../server/logger';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { waitUntil } from '../support/wait';
import { tenant, testConfig } from './support';

let db: TestDatabase;
const opened: Database[] = [];
const silent = createLogger('silent');
beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(async () => {
  for (const database of opened) await database.close().catch(() => undefined);
  await db.drop();
});

function open(env: Record<string, string> = {}, logged?: string[]): Database {
  const logger = logged ? createLogger('info', { write: (line: string) => void logged.push(line) }) : silent;
  const database = new Database(apiDatabaseOptions(testConfig(db.url, env), db.url, logger));
  opened.push(database);
  return database;
}

const api = { channel: 'api', label: 'database test' } as const;

describe('which database, as whom', () => {
  const config = (env: Record<string, string>) => loadConfig({ DATABASE_API_ROLE: 'nora_api', ...env });

  test('API_DATABASE_URL is logged into as it is; else the owner URL, then DATABASE_URL, switching to the API role', () => {
    expect(apiDatabaseOptions(config({ API_DATABASE_URL: 'postgres://api@h/d', DATABASE_URL: 'postgres://o@h/d' }), 'postgres://owner@h/d', silent)).toMatchObject({
      url: 'postgres://api@h/d',
      role: null,
    });
    expect(apiDatabaseOptions(config({ DATABASE_URL: 'postgres://o@h/d' }), 'postgres://owner@h/d', silent)).toMatchObject({ url: 'postgres://owner@h/d', role: 'nora_api' });
    expect(apiDatabaseOptions(config({ DATABASE_URL: 'postgres://o@h/d' }), undefined, silent)).toMatchObject({ url: 'postgres://o@h/d', role: 'nora_api' });
  });

  test('the key listener uses DATABASE_LISTEN_URL as it is, else the pool\'s server and role', () => {
    expect(listenDatabaseOptions(config({ DATABASE_LISTEN_URL: 'postgres://l@h/d', API_DATABASE_URL: 'postgres://api@h/d' }), 'postgres://owner@h/d')).toEqual({ url: 'postgres://l@h/d', role: null });
    expect(listenDatabaseOptions(config({ API_DATABASE_URL: 'postgres://api@h/d' }), 'postgres://owner@h/d')).toEqual({ url: 'postgres://api@h/d', role: null });
    expect(listenDatabaseOptions(config({}), 'postgres://owner@h/d')).toEqual({ url: 'postgres://owner@h/d', role: 'nora_api' });
    expect(listenDatabaseOptions(config({ DATABASE_URL: 'postgres://o@h/d' }), undefined)).toEqual({ url: 'postgres://o@h/d', role: 'nora_api' });
    expect(() => listenDatabaseOptions(config({}), undefined)).toThrow('no database to connect to: set DATABASE_URL or API_DATABASE_URL');
  });
});

test('each connection runs as the API role, in UTC, named nora-api, with the pool size and timeouts of the configuration', async () => {
  const database = open({ DB_POOL_SIZE: '3', DB_CONNECTION_TIMEOUT_MS: '4000', DB_STATEMENT_TIMEOUT_MS: '7000' });
  const [row] = await database.read<Record<string, string>>(
    "select current_user as who, current_setting('TimeZone') as zone, current_setting('application_name') as app, current_setting('statement_timeout') as timeout",
    [],
  );
  expect(row).toEqual({ who: db.apiRole, zone: 'UTC', app: 'nora-api', timeout: '7s' });
  expect(database.pool.options).toMatchObject({ max: 3, connectionTimeoutMillis: 4000, idleTimeoutMillis: 30_000 });
});

test('with DB_PREPARED_STATEMENTS each statement text is prepared once per connection, under a name of its own', async () => {
  const database = open({ DB_PREPARED_STATEMENTS: 'true', DB_POOL_SIZE: '1' });
  const prepared = 'select name, statement from pg_prepared_statements order by name';
  await database.read('select 1 as one', []);
  await database.read('select 1 as one', []);
  const rows = await database.read<{ name: string; statement: string }>(prepared, []);
  expect(rows).toEqual([
    { name: 'nora_1', statement: 'select 1 as one' },
    { name: 'nora_2', statement: prepared },
  ]);
  const plain = open({ DB_PREPARED_STATEMENTS: 'false', DB_POOL_SIZE: '1' });
  await plain.read('select 1 as one', []);
  expect(await plain.read(prepared, [])).toEqual([]);
});

describe('connection failures', () => {
  const terminate = (application: string) =>
    db.pool.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()", [application]);

  test('an idle connection that dies is logged, not thrown', async () => {
    const logged: string[] = [];
    const database = open({}, logged);
    await database.read('select 1', []);
    await terminate('nora-api');
    await waitUntil(() => logged.some((line) => line.includes('idle database connection failed')), 5000);
    const idle = logged.map((line) => JSON.parse(line) as { msg: string; err?: { code?: string } }).find((line) => line.msg === 'idle database connection failed');
    expect(idle?.err?.code).toBe('57P01');
    expect(await database.read('select 1 as one', [])).toEqual([{ one: 1 }]);
  });

  test('a connection that breaks while in use is logged, and not given back to the pool', async () => {
    const logged: string[] = [];
    const database = open({ DB_POOL_SIZE: '1' }, logged);
    await database.read('select 1', []);
    const pids: number[] = [];
    const failed = await database
      .transaction(api, async (client) => {
        pids.push((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
        (client as unknown as { connection: { stream: { destroy(error: Error): void } } }).connection.stream.destroy(new Error('cable cut'));
        await client.query('select 1');
      })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as { code?: unknown }).code).toBeUndefined();
    const inUse = logged.map((line) => JSON.parse(line) as { msg: string; err?: { message?: string } }).find((line) => line.msg === 'database connection failed while in use');
    expect(inUse?.err?.message).toBe('cable cut');
    const [after] = await database.read<{ pid: number }>('select pg_backend_pid() as pid', []);
    expect(after!.pid).not.toBe(pids[0]);
  });

  test('after a failure without a SQLSTATE the connection is not trusted again; after a SQL error it is', async () => {
    const database = open({ DB_POOL_SIZE: '1' });
    const pid = async () => (await database.read<{ pid: number }>('select pg_backend_pid() as pid', []))[0]!.pid;
    const first = await pid();
    await expect(database.read('select 1/0', [])).rejects.toMatchObject({ code: '22012' });
    expect(await pid()).toBe(first);
    await expect(database.transaction(api, async () => Promise.reject(new Error('not from PostgreSQL')))).rejects.toThrow('not from PostgreSQL');
    expect(await pid()).not.toBe(first);
  });

  test('a database that cannot be reached yet is asked again whether it is Citus once it can', async () => {
    const name = `nora_later_${randomBytes(4).toString('hex')}`;
    const url = new URL(db.url);
    url.pathname = `/${name}`;
    const options: DatabaseOptions = { ...apiDatabaseOptions(testConfig(db.url), db.url, silent), url: url.toString(), role: null };
    const database = new Database(options);
    opened.push(database);
    await expect(database.isCitus()).rejects.toMatchObject({ code: '3D000' });
    await db.pool.query(`create database ${name}`);
    try {
      await expect(database.isCitus()).resolves.toBe(false);
      await database.close();
    } finally {
      await db.pool.query(`drop database ${name}`);
    }
  });
});

describe('transactions', () => {
  test('what a transaction wrote is committed, for every other connection to see', async () => {
    const database = open();
    const bistro = await tenant(db);
    await database.transaction(api, (tx) => tx.query('select booking.upsert_client($1, $2)', [bistro.id, 'committed@example.com']));
    const { rows } = await db.pool.query('select count(*)::int as n from booking.clients where email = $1', ['committed@example.com']);
    expect(rows[0].n).toBe(1);
  });

  test('a failed transaction is rolled back, and its connection serves the next one', async () => {
    const database = open({ DB_POOL_SIZE: '1' });
    const bistro = await tenant(db);
    await expect(
      database.transaction(api, async (tx) => {
        await tx.query('select booking.upsert_client($1, $2)', [bistro.id, 'undone@example.com']);
        await tx.query('select 1/0');
      }),
    ).rejects.toMatchObject({ code: '22012' });
    await database.transaction(api, (tx) => tx.query('select booking.upsert_client($1, $2)', [bistro.id, 'next@example.com']));
    const { rows } = await db.pool.query<{ email: string }>('select email from booking.clients where restaurant_id = $1 order by email', [bistro.id]);
    expect(rows.map((row) => row.email)).toEqual(['next@example.com']);
  });

  test('a connection given back carries no listener of ours', async () => {
    const database = open({ DB_POOL_SIZE: '1' });
    const listeners = async () => {
      const client = await database.pool.connect();
      const count = client.listenerCount('error');
      client.release();
      return count;
    };
    await database.read('select 1', []);
    const before = await listeners();
    await database.read('select 1', []);
    await database.transaction(api, (tx) => tx.query('select 1'));
    expect(await listeners()).toBe(before);
  });
});

describe('a call that loses a race is run again, up to DB_RETRIES times', () => {
  let restaurantId: number;
  beforeAll(async () => {
    restaurantId = (await tenant(db)).id;
    // A stand-in booking function that fails with 40001 a given number of times: a sequence
    // counts the attempts, as it is not rolled back with them.
    await db.pool.query(`
      create sequence booking.flaky_attempts;
      create function booking.flaky(restaurant_id bigint, failures int)
        returns table (attempt bigint, channel text, actor text) language plpgsql as $$
        declare n bigint := nextval('booking.flaky_attempts');
        begin
          if failures < 0 then raise exception 'refused' using errcode = '22023'; end if;
          if n <= failures then raise exception 'lost a race' using errcode = '40001'; end if;
          return query select n, current_setting('nora.channel', true), current_setting('nora.actor', true);
        end $$;
      grant usage on sequence booking.flaky_attempts to ${db.apiRole};
      grant execute on function booking.flaky(bigint, int) to ${db.apiRole};`);
  });
  beforeEach(() => db.pool.query("select setval('booking.flaky_attempts', 1, false)"));

  const flaky = (database: Database, failures: number) =>
    database.call<{ attempt: string; channel: string; actor: string }>(api, 'flaky', [restaurantId, failures], (called) => `select * from ${called}`);

  test('two lost races and DB_RETRIES=2: the third attempt answers, as the acting key', async () => {
    expect(await flaky(open({ DB_RETRIES: '2' }), 2)).toEqual({ attempt: '3', channel: 'api', actor: 'database test' });
  });

  test('three lost races and DB_RETRIES=2: the third failure is the answer', async () => {
    await expect(flaky(open({ DB_RETRIES: '2' }), 3)).rejects.toMatchObject({ code: '40001' });
    const [row] = await db.pool.query<{ last_value: string }>('select last_value from booking.flaky_attempts').then((r) => r.rows);
    expect(row!.last_value).toBe('3');
  });

  test('an error that is not a lost race is not retried', async () => {
    await expect(flaky(open({ DB_RETRIES: '2' }), -1)).rejects.toMatchObject({ code: '22023' });
    const [row] = await db.pool.query<{ last_value: string }>('select last_value from booking.flaky_attempts').then((r) => r.rows);
    expect(row!.last_value).toBe('1');
  });
});

describe('the Citus helpers, on one PostgreSQL', () => {
  test('rowsOf calls a function with its parameters and returns its rows as one JSON array', async () => {
    const database = open();
    expect(database.rowsOf('fn', 3)).toBe("select coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) as rows from booking.fn($1, $2, $3) c");
    const bistro = await tenant(db);
    const [row] = await database.read<{ rows: Array<{ table_id: string }> }>(database.rowsOf('book_table', 3), [bistro.id, await bistro.at('20:00'), 2]);
    expect(row!.rows).toEqual([expect.objectContaining({ restaurant_id: bistro.id, guests: 2, status: 'confirmed' })]);
  });

  test('shapeRows shapes rows returned as JSON through the function\'s own row type, and refuses a function without one', async () => {
    const database = open();
    const bistro = await tenant(db);
    const [booked] = await database.read<{ rows: unknown[] }>(database.rowsOf('book_table', 3), [bistro.id, await bistro.at('20:00'), 2]);
    const shaped = await database.shapeRows<{ guests: number; n: string }>('book_table', booked!.rows, (called) => `select guests, count(*) over () as n from ${called}`);
    expect(shaped).toEqual({ guests: 2, n: '1' });
    await expect(database.shapeRows('available_table_counts', [], (called) => `select * from ${called}`)).rejects.toThrow(
      'booking.available_table_counts does not return a composite type',
    );
  });

  test("a function's row type is asked once, and asked again if the asking failed", async () => {
    const database = open();
    const shape = (called: string) => `select count(*)::int as n from ${called}`;
    await expect(database.shapeRows('arriving_later', [], shape)).rejects.toMatchObject({ code: '42883' });
    await db.pool.query('create function booking.arriving_later() returns booking.clients language sql as $$ select * from booking.clients limit 1 $$');
    expect(await database.shapeRows('arriving_later', [], shape)).toEqual({ n: 0 });
    await db.pool.query('drop function booking.arriving_later()');
    // Kept from before: the function need not exist for the rows to be shaped.
    expect(await database.shapeRows('arriving_later', [], shape)).toEqual({ n: 0 });
  });
});
