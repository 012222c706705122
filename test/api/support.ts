// An API under test: a fresh database, the app built around it as the API role, and a client
// whose every response is checked against openapi.yaml before the test sees it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { Response } from 'supertest';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020';
import { addContractFormats } from '../../server/formats';
import type { Store } from 'express-rate-limit';
import type pg from 'pg';
import type { DestinationStream } from 'pino';
import { freshDatabase, type TestDatabase } from '../support/cluster';
import { createRestaurant, localDate, localInstant, type Restaurant, type RestaurantSpec } from '../support/fixtures';
import { loadConfig, type Config } from '../../config';
import { createApp } from '../../server/app';
import { apiDatabaseOptions, Database, queries } from '../../server/db';
import { createLogger } from '../../server/logger';
import { specPath } from '../../server/openapi';
import { committedMigrations } from '../../db/migrate';

type Spec = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: Record<string, Record<string, unknown>> };
const spec = YAML.parse(readFileSync(specPath, 'utf8')) as Spec;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addContractFormats(ajv, 'fast');
ajv.addSchema(spec as object, 'spec');

function pointer(ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
}

const routes = Object.entries(spec.paths).map(([template, operations]) => ({
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  template,
  operations,
}));

/** Fails the request's test when the response is not one the contract documents. */
export function conformsToSpec(res: Response): void {
  const req = (res as unknown as { req: { method: string; path: string } }).req;
  const path = new URL(req.path, 'http://x').pathname;
  if (path === '/docs' || path.startsWith('/docs/') || path === '/openapi.yaml') return;
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route?.operations[req.method.toLowerCase()];
  if (!route || !operation) {
    // Undocumented routes still answer with the one error shape.
    const validate = ajv.getSchema('spec#/components/schemas/Error')!;
    const body = path.startsWith('/api/') ? (res.body as { error?: unknown }).error : res.body;
    if (!validate(body)) throw new Error(`${req.method} ${path} → ${res.status}: ${ajv.errorsText(validate.errors)}`);
    return;
  }
  let response = (operation.responses[String(res.status)] ?? operation.responses.default) as { $ref?: string; content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> } | undefined;
  if (!response) throw new Error(`${req.method} ${route.template} does not document status ${res.status}`);
  if (response.$ref) response = pointer(response.$ref) as typeof response;
  const schema = response!.content?.['application/json']?.schema as Record<string, unknown> | undefined;
  if (!schema) throw new Error(`${req.method} ${route.template} ${res.status} has no JSON schema`);
  const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"spec#/components/')));
  if (!validate(res.body)) {
    throw new Error(`${req.method} ${path} → ${res.status} breaks the contract: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(res.body)}`);
  }
  // Documented headers marked required must be there, with a value their schema allows.
  for (const [name, declared] of Object.entries(response!.headers ?? {})) {
    const header = ((declared as { $ref?: string }).$ref ? pointer((declared as { $ref: string }).$ref) : declared) as { required?: boolean; schema: { type?: string } };
    const value = res.headers[name.toLowerCase()] as string | undefined;
    if (value === undefined) {
      if (header.required) throw new Error(`${req.method} ${path} → ${res.status} lacks the ${name} header`);
      continue;
    }
    const validate = headerValidator(header.schema);
    if (!validate(header.schema.type === 'integer' ? Number(value) : value)) {
      throw new Error(`${req.method} ${path} → ${res.status}: header ${name}: ${value} breaks the contract: ${ajv.errorsText(validate.errors)}`);
    }
  }
}

const headerValidators = new Map<unknown, ReturnType<typeof ajv.compile>>();
function headerValidator(schema: object) {
  let validate = headerValidators.get(schema);
  if (!validate) headerValidators.set(schema, (validate = ajv.compile(schema)));
  return validate;
}

export interface ApiUnderTest {
  db: TestDatabase;
  config: Config;
  database: Database;
  server: Server;
  url: string;
  api: ReturnType<typeof client>;
  close(): Promise<void>;
}

export interface ApiOptions {
  env?: Record<string, string>;
  rateLimitStore?: Store;
  log?: DestinationStream;
  db?: TestDatabase;
}

export function testConfig(url: string, env: Record<string, string> = {}): Config {
  // Many tests present missing or unknown keys on purpose; the failed-authentication guard has its own test.
  return loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', VALIDATE_RESPONSES: 'true', API_KEY_CACHE_TTL_MS: '0', RATE_LIMIT_FAILED_AUTH_MAX: '1000000', ...env });
}

export async function startTestApi(options: ApiOptions = {}): Promise<ApiUnderTest> {
  const db = options.db ?? (await freshDatabase());
  const config = testConfig(db.url, options.env);
  const logger = createLogger(options.log ? 'info' : config.logLevel, options.log);
  const database = new Database(apiDatabaseOptions(config, db.url, logger));
  const app = createApp({ config, queries: queries(database), logger, committedMigrations: committedMigrations(), rateLimitStore: options.rateLimitStore });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    db,
    config,
    database,
    server,
    url,
    api: client(server),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
      if (!options.db) await db.drop();
    },
  };
}

/** supertest on one server, with the contract check chained before the test's own expectations. */
export function client(server: Server) {
  const agent = request(server);
  const call = (method: 'get' | 'post' | 'put' | 'patch' | 'delete') => (url: string, key?: string) => {
    const test = agent[method](url).expect(conformsToSpec);
    return key ? test.set('Authorization', `Bearer ${key}`) : test;
  };
  return { get: call('get'), post: call('post'), put: call('put'), patch: call('patch'), delete: call('delete') };
}

export async function apiKey(db: TestDatabase, restaurantId: string | null, label = 'test'): Promise<string> {
  const { rows } = await db.pool.query<{ key: string }>('select booking.create_api_key($1, $2) as key', [restaurantId, label]);
  return rows[0]!.key;
}

export interface Tenant {
  restaurant: Restaurant;
  id: number;
  key: string;
  day: string;
  at(time: string): Promise<string>;
}

/** A restaurant open 12:00-23:59 every day, its key, and a day a week ahead. */
export async function tenant(db: TestDatabase, spec: RestaurantSpec = {}, label = 'assistant'): Promise<Tenant> {
  const restaurant = await createRestaurant(db.pool, spec);
  const day = await localDate(db.pool, restaurant.timezone, 7);
  return {
    restaurant,
    id: Number(restaurant.id),
    key: await apiKey(db, restaurant.id, label),
    day,
    at: (time: string) => localInstant(db.pool, restaurant.timezone, day, time),
  };
}

export async function count(db: TestDatabase, table: 'reservations' | 'clients' | 'reservation_events'): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from booking.${table}`);
  return rows[0]!.n;
}

/**
 * Every pair of active reservations of one restaurant that hold one table at overlapping times,
 * buffer included. Held tables are derived from the reservations themselves (the table, or every
 * member of the combination), not read from booking.reservation_tables, so the check does not
 * trust the structure the exclusion constraint lives on.
 */
export async function overlaps(pool: pg.Pool, restaurantId: number | string): Promise<Array<{ a: string; b: string; table_id: string }>> {
  const { rows } = await pool.query<{ a: string; b: string; table_id: string }>(
    `with held as (
       select r.id, coalesce(m.table_id, r.table_id) as table_id,
              tstzrange(r.starts_at, r.ends_at + make_interval(mins => rest.buffer_minutes), '[)') as during
         from booking.reservations r
         join booking.restaurants rest on rest.id = r.restaurant_id
         left join booking.table_combination_members m on m.restaurant_id = r.restaurant_id and m.combination_id = r.combination_id
        where r.restaurant_id = $1 and r.status in ('confirmed', 'seated', 'held'))
     select a.id as a, b.id as b, a.table_id
       from held a join held b on a.table_id = b.table_id and a.id < b.id and a.during && b.during
      order by a.id, b.id`,
    [restaurantId],
  );
  return rows;
}
