// Running the API: probes, the docs page (also in a real browser) and the contract, the API
// role, a database that is down, and a graceful stop.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createApp } from '../../server/app';
import { apiDatabaseOptions, Database, queries } from '../../server/db';
import { createLogger } from '../../server/logger';
import { startApi } from '../../server/server';
import { loadConfig } from '../../config';
import { toApiError } from '../../server/errors';
import { committedMigrations } from '../../db/migrate';
import { specPath } from '../../server/openapi';
import { browserTest, renderedDom } from '../support/browser';
import { hasRedisServer, REDIS_SERVER, startRedis } from '../support/redis';
import { client, startTestApi, testConfig, tenant, type ApiUnderTest } from './support';

let db: TestDatabase;
let t: ApiUnderTest;
beforeAll(async () => {
  db = await freshDatabase();
  t = await startTestApi({ db });
});
afterAll(async () => {
  await t.close();
  await db.drop();
});

const silent = createLogger('silent');

test('/health answers without a key', async () => {
  await t.api.get('/health').expect(200, { status: 'ok' });
});

test('/ready is 200 when the database answers and has every committed migration', async () => {
  const res = await t.api.get('/ready').expect(200);
  expect(res.body).toEqual({ status: 'ready', migrations: committedMigrations().length });
});

test('/ready is 503 when the database lacks a committed migration', async () => {
  const app = createApp({ config: t.config, queries: queries(t.database), logger: silent, committedMigrations: [...committedMigrations(), '999999-future.sql'] });
  const res = await request(app).get('/ready').expect(503);
  expect(res.body).toEqual({ status: 'not_ready', reason: 'migrations_not_current' });
  expect(res.headers['retry-after']).toBe('5');
});

describe('with the database down', () => {
  let down: ApiUnderTest;
  const logged: string[] = [];
  beforeAll(async () => {
    down = await startTestApi({
      db,
      env: { API_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DB_CONNECTION_TIMEOUT_MS: '2000' },
      log: { write: (line: string) => void logged.push(line) },
    });
  });
  afterAll(() => down.close());

  test('/ready is 503 with Retry-After, and the log says why', async () => {
    const res = await down.api.get('/ready').expect(503);
    expect(res.body).toEqual({ status: 'not_ready', reason: 'database_unreachable' });
    expect(res.headers['retry-after']).toBe('5');
    const warning = logged.map((line) => JSON.parse(line) as { msg: string; err?: { message?: string } }).find((line) => line.msg === 'readiness check: database unreachable');
    expect(warning?.err?.message).toContain('ECONNREFUSED');
  });

  test('API calls fail fast with 503, Retry-After and only a request id', async () => {
    const res = await down.api.get('/api/restaurants/1/clients', 'nora_whatever').expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body.error).toEqual({
      code: 'service_unavailable',
      message: expect.any(String),
      details: { request_id: res.headers['x-request-id'] },
      hint: expect.any(String),
    });
  });
});

test('/openapi.yaml serves the contract and /docs the interactive page pointing at it', async () => {
  const spec = await request(t.server).get('/openapi.yaml').expect(200);
  expect(spec.headers['content-type']).toMatch(/yaml/);
  expect(YAML.parse(spec.text).openapi).toBe('3.1.0');
  const page = await request(t.server).get('/docs').redirects(1).expect(200);
  expect(page.text).toContain('swagger-ui');
  expect(page.text).toContain('<title>nora-reservations API</title>');
  const init = await request(t.server).get('/docs/swagger-ui-init.js').expect(200);
  expect(init.text).toContain('"url": "/openapi.yaml"');
  await request(t.server).get('/docs/swagger-ui-bundle.js').expect(200);
});

browserTest('/docs renders every path of openapi.yaml in headless Chromium', async () => {
  const dom = await renderedDom(`${t.url}/docs/`);
  const spec = YAML.parse(readFileSync(specPath, 'utf8')) as { info: { title: string }; paths: Record<string, unknown> };
  expect(dom).toContain(spec.info.title);
  expect(Object.keys(spec.paths).filter((p) => !dom.includes(`data-path="${p}"`))).toEqual([]);
});

test('every request id is echoed, and a sane caller-supplied one is kept', async () => {
  const res = await t.api.get('/health').set('X-Request-Id', 'call-123').expect(200);
  expect(res.headers['x-request-id']).toBe('call-123');
  const odd = await t.api.get('/health').set('X-Request-Id', 'bad id with spaces').expect(200);
  expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('the pool runs as the API role, which cannot write tables directly', async () => {
  const [row] = await t.database.read<{ who: string }>('select current_user as who', []);
  expect(row!.who).toBe(t.config.apiRole);
  await expect(t.database.read("insert into booking.clients (restaurant_id, email) values (1, 'x@example.com')", [])).rejects.toMatchObject({ code: '42501' });
});

test('with API_DATABASE_URL the server logs in as that role and does not switch', async () => {
  const role = `nora_login_${randomBytes(4).toString('hex')}`;
  await db.pool.query(`create role ${role} login password 'secret' in role ${t.config.apiRole}`);
  try {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'secret';
    const config = testConfig(db.url, { API_DATABASE_URL: url.toString() });
    const options = apiDatabaseOptions(config, db.url, silent);
    expect(options.role).toBeNull();
    const database = new Database(options);
    const [row] = await database.read<{ who: string }>('select current_user as who', []);
    expect(row!.who).toBe(role);
    await database.close();
  } finally {
    await db.pool.query(`drop role ${role}`);
  }
});

test('DB_STATEMENT_TIMEOUT_MS applies to the API sessions, and a statement past it is 504', async () => {
  const config = testConfig(db.url, { DB_STATEMENT_TIMEOUT_MS: '50' });
  const database = new Database(apiDatabaseOptions(config, db.url, silent));
  try {
    const error = await database.read('select pg_sleep(1)', []).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: '57014' });
    expect(toApiError(error, 'r').status).toBe(504);
  } finally {
    await database.close();
  }
});

test('a serialization failure is retried, and reported as 503 once the retries run out', async () => {
  const database = new Database({ ...apiDatabaseOptions(t.config, db.url, silent), pool: { ...t.config.pool, retries: 2 } });
  try {
    let attempts = 0;
    const result = await database.transaction({ channel: 'api', label: 'test' }, async () => {
      attempts += 1;
      if (attempts < 3) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      return 'done';
    });
    expect(result).toBe('done');
    attempts = 0;
    await expect(
      database.transaction({ channel: 'api', label: 'test' }, async () => {
        attempts += 1;
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      }),
    ).rejects.toMatchObject({ code: '40P01' });
    expect(attempts).toBe(3);
  } finally {
    await database.close();
  }
});

test('a database error inside a transaction rolls everything back', async () => {
  const bistro = await tenant(db);
  await expect(
    t.database.transaction({ channel: 'api', label: 'test' }, async (tx) => {
      await tx.query('select booking.upsert_client($1, $2)', [bistro.id, 'rolled-back@example.com']);
      await tx.query('select booking.book_table($1, $2, 0)', [bistro.id, await bistro.at('20:00')]);
    }),
  ).rejects.toMatchObject({ code: '22023' });
  const { rows } = await db.pool.query('select count(*)::int as n from booking.clients where email = $1', ['rolled-back@example.com']);
  expect(rows[0].n).toBe(0);
});

test('an unexpected failure is a 500 whose body carries only the request id', async () => {
  const failing = { ...queries(t.database), resolveApiKey: async () => { throw new Error('secret internals'); } };
  const logged: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void logged.push(line) });
  const app = createApp({ config: t.config, queries: failing, logger, committedMigrations: [] });
  const server = app.listen(0);
  try {
    const res = await client(server).get('/rpc/available_table_counts?restaurant_id=1&day=2030-01-01&guests=2', 'nora_x').expect(500);
    expect(JSON.stringify(res.body)).not.toContain('secret');
    expect(res.body.details).toEqual({ request_id: res.headers['x-request-id'] });
    // The log has what the body does not, once; a refusal (4xx) is no failure of ours.
    await client(server).get('/nowhere').expect(404);
    const failures = logged.map((line) => JSON.parse(line) as { msg: string; err?: { message?: string }; req?: { id?: string } }).filter((line) => line.msg === 'request failed');
    expect(failures).toEqual([expect.objectContaining({ err: expect.objectContaining({ message: 'secret internals' }), req: expect.objectContaining({ id: res.headers['x-request-id'] }) })]);
  } finally {
    server.close();
  }
});

test('a route that does not exist is 404 not_found, in the legacy shape under /api/', async () => {
  const bistro = await tenant(db);
  const body = { code: 'not_found', message: 'No such route.', details: { reason: 'route_not_found' }, hint: 'See /openapi.yaml for the routes.' };
  expect((await request(t.server).get('/nowhere').expect(404)).body).toEqual(body);
  // The probes' and the docs' paths answer alike: the contract has the probes, so another method
  // on one is 405, as on any path of the contract.
  expect((await request(t.server).get('/health/nowhere').expect(404)).body).toEqual(body);
  expect((await request(t.server).get('/docs/nothing').expect(404)).body).toEqual(body);
  expect((await request(t.server).post('/health').expect(405)).body).toMatchObject({ code: 'method_not_allowed' });
  // A target that is no path at all passes the validator, and still gets the body.
  const asterisk = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
    httpRequest(t.url, { method: 'OPTIONS', path: '*' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: res.statusCode, body: text }));
    }).on('error', reject).end();
  });
  expect(asterisk.status).toBe(404);
  expect(JSON.parse(asterisk.body)).toEqual(body);
  expect((await request(t.server).get('/api/nowhere').set('Authorization', `Bearer ${bistro.key}`).expect(404)).body).toEqual({ success: false, error: body });
});

test('answers carry no ETag, and X-Forwarded-For is not trusted for the address', async () => {
  const bistro = await tenant(db);
  const res = await t.api.get(`/api/restaurants/${bistro.id}/clients`, bistro.key).expect(200);
  expect(res.headers['etag']).toBeUndefined();
  const limited = await startTestApi({ db, env: { RATE_LIMIT_FAILED_AUTH_MAX: '1', RATE_LIMIT_WINDOW_MS: '60000' } });
  try {
    await limited.api.get('/rpc/available_table_counts', 'nora_guess1').set('X-Forwarded-For', '10.0.0.1').expect(401);
    await limited.api.get('/rpc/available_table_counts', 'nora_guess2').set('X-Forwarded-For', '10.0.0.2').expect(429);
  } finally {
    await limited.close();
  }
});

if (!hasRedisServer) console.warn(`${REDIS_SERVER} is missing: startApi with REDIS_URL is SKIPPED (apt-get install redis-server)`);
(hasRedisServer ? test : test.skip)('startApi serves on PORT, shares rate limits through Redis, and finishes in-flight requests when stopped', async () => {
  const redis = await startRedis();
  try {
    const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', REDIS_URL: redis.url });
    const api = await startApi(config, silent);
    let closing: Promise<void> | undefined;
    api.server.once('request', () => {
      closing = api.close();
    });
    const res = await fetch(`${api.url}/ready`);
    expect(res.status).toBe(200);
    await closing;
    await expect(fetch(`${api.url}/health`)).rejects.toThrow();
    await api.close();
  } finally {
    await redis.stop();
  }
});

test('stopping waits SHUTDOWN_TIMEOUT_MS for a request that never finishes, then closes its connection', async () => {
  const bistro = await tenant(db);
  const api = await startApi(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SHUTDOWN_TIMEOUT_MS: '200' }), silent);
  const socket = connect(api.port, '127.0.0.1');
  try {
    const dropped = once(socket, 'close').then(() => Date.now());
    const arrived = once(api.server, 'request');
    // A body promised and never sent: the request stays in flight.
    socket.write(`POST /rpc/upsert_client HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${bistro.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email"`);
    await arrived;
    const stopping = Date.now();
    const outcome = await Promise.race([api.close().then(() => 'stopped'), delay(10_000, 'still waiting', { ref: false })]);
    expect(outcome).toBe('stopped');
    expect((await dropped) - stopping).toBeGreaterThanOrEqual(190);
  } finally {
    socket.destroy();
    await api.close();
  }
});

test('/mcp is the MCP endpoint, answered before the REST contract is consulted', async () => {
  const bistro = await tenant(db);
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const res = await request(t.server).post('/mcp').set('Authorization', `Bearer ${bistro.key}`).set('Accept', 'application/json, text/event-stream').send(initialize).expect(200);
  expect(res.body).toMatchObject({ jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'nora-reservations' } } });
});

test('startApi listening on every address gives a loopback URL to browse to', async () => {
  const api = await startApi(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '0.0.0.0', LOG_LEVEL: 'silent' }), silent);
  try {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  } finally {
    await api.close();
  }
});

test.each([
  ['::', 'http://127.0.0.1'],
  ['::1', 'http://[::1]'],
  ['127.0.0.1', 'http://127.0.0.1'],
])('startApi listening on %s gives %s to browse to', async (host, base) => {
  const api = await startApi(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: host, LOG_LEVEL: 'silent' }), silent);
  try {
    expect(api.url).toBe(`${base}:${api.port}`);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  } finally {
    await api.close();
  }
});

test('startApi refuses to start without a database and releases what it opened', async () => {
  expect(() => apiDatabaseOptions(loadConfig({}), undefined, silent)).toThrow(/DATABASE_URL/);
  const config = loadConfig({ DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent', REDIS_URL: 'redis://127.0.0.1:1' });
  await expect(startApi(config, silent)).rejects.toThrow();
});

test('configuration is validated once, naming every bad variable', () => {
  expect(() => loadConfig({ PORT: 'eighty', VALIDATE_RESPONSES: 'yes' })).toThrow(/PORT[\s\S]*VALIDATE_RESPONSES/);
  const config = loadConfig({ VALIDATE_RESPONSES: '1', BODY_LIMIT: '1mb' });
  expect(config).toMatchObject({ validateResponses: true, bodyLimit: '1mb', port: 3000 });
});
