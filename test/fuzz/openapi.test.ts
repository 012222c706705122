// Fuzzing every operation of openapi.yaml: property-based requests generated from the contract's
// own schemas (fast-check, fixed seed, bounded count; see ./config.ts), then hand-picked nasty
// values in every field and broken transports. Whatever comes in: no 5xx, every answer is one
// the contract documents for that operation (error bodies included), and a refused request
// leaves the database exactly as it was. Last, every bound the contract declares: the value at
// it gets through, one past it is refused with 400 naming the field.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import YAML from 'yaml';
import { specPath } from '../../server/openapi';
import { apiKey, startTestApi, tenant, type ApiUnderTest, type Tenant } from '../api/support';
import { fuzzConfig } from './config';
import { boundaries, sampleOf, valueSchema } from './bounds';
import { arbitraryFor, nastyPathIds, nastyValues, resolver, type Hints, type Schema } from './schema-arbitrary';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  method: Method;
  template: string;
  operationId: string;
  parameters: Parameter[];
  body?: Schema;
  needsAuth: boolean;
}

const spec = YAML.parse(readFileSync(specPath, 'utf8')) as Schema & { paths: Record<string, Record<string, Schema>>; security?: unknown[] };
const resolve = resolver(spec);
const operations: Operation[] = Object.entries(spec.paths).flatMap(([template, item]) =>
  (['get', 'post', 'put', 'patch', 'delete'] as const)
    .filter((method) => item[method])
    .map((method) => {
      const operation = item[method]!;
      const body = (resolve((operation.requestBody as Schema) ?? {}).content as Record<string, { schema: Schema }> | undefined)?.['application/json']?.schema;
      const security = (operation.security ?? spec.security ?? []) as unknown[];
      return {
        method,
        template,
        operationId: operation.operationId as string,
        parameters: ((operation.parameters as Schema[]) ?? []).map((p) => resolve(p) as unknown as Parameter),
        body,
        needsAuth: security.some((requirement) => Object.keys(requirement as object).length > 0),
      };
    }),
);

interface FuzzRequest {
  path: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  auth: 'own' | 'none' | 'other' | 'bogus';
}

let t: ApiUnderTest;
let own: Tenant;
let otherKey: string;
let hints: Hints;

beforeAll(async () => {
  t = await startTestApi({ env: { RATE_LIMIT_MAX: '10000000' } });
  own = await tenant(t.db);
  const other = await tenant(t.db, { name: 'Other Kitchen' });
  otherKey = other.key;
  const pool = t.db.pool;
  const clients: string[] = [];
  for (const email of ['ana@example.com', 'bo@example.com']) {
    const { rows } = await pool.query<{ id: string }>('select id from booking.upsert_client($1, $2, $3)', [own.id, email, 'Guest']);
    clients.push(String(rows[0]!.id));
  }
  const instants = await Promise.all(['19:00', '20:00', '20:15', '21:00', '22:00'].map((time) => own.at(time)));
  const reservations: string[] = [];
  for (const [i, startsAt] of instants.entries()) {
    const { rows } = await pool.query<{ id: string }>('select id from booking.book_table($1, $2, $3, $4)', [own.id, startsAt, 2 + (i % 3), clients[i % 2]]);
    reservations.push(String(rows[0]!.id));
  }
  const ids = [...reservations, ...clients, String(other.id)];
  hints = {
    known: {
      restId: [String(own.id)],
      id: ids,
      restaurant_id: [own.id],
      reservation_id: reservations.map(Number),
      client_id: clients.map(Number),
      table_id: own.restaurant.tableIds.map(Number),
      'date|date': [own.day],
      day: [own.day],
      'date|date-time': instants,
      starts_at: instants,
      earliest: instants,
      latest: instants,
      guests: [2, 4],
      time: ['20:00'],
      status: ['seated'],
      email: ['ana@example.com'],
      url: ['https://example.com/hooks'],
    },
  };
  // Make sure the fuzzing keys of this run are its own, however often it runs.
  await apiKey(t.db, String(own.id), 'fuzz');
});
afterAll(() => t?.close());

async function fingerprint(): Promise<string> {
  const { rows } = await t.db.pool.query<{ f: string }>(
    `select (select md5(coalesce(string_agg(r::text, '|' order by id), '')) from booking.reservations r)
         || (select md5(coalesce(string_agg(c::text, '|' order by id), '')) from booking.clients c)
         || (select count(*) from booking.reservation_events)::text as f`,
  );
  return rows[0]!.f;
}

const asQueryValue = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Sends one request; the contract check (test/api/support) runs on the response first. */
async function send(op: Operation, req: FuzzRequest): Promise<{ status: number; body: unknown }> {
  const path = op.template.replace(/\{([^}]+)\}/g, (_, name: string) => req.path[name] ?? '1');
  const query = Object.entries(req.query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(asQueryValue(value))}`)
    .join('&');
  const key = req.auth === 'own' ? own.key : req.auth === 'other' ? otherKey : req.auth === 'bogus' ? 'nora_not_a_real_key' : undefined;
  let call = t.api[op.method](query ? `${path}?${query}` : path, key);
  for (const [name, value] of Object.entries(req.headers)) call = call.set(name, value);
  if (req.rawBody !== undefined || req.body !== undefined) {
    call = call.set('Content-Type', req.contentType ?? 'application/json').send(req.rawBody ?? JSON.stringify(req.body));
  }
  const res = await call;
  return { status: res.status, body: res.body };
}

/** The properties every answer must have, whatever was sent. */
async function check(op: Operation, req: FuzzRequest): Promise<void> {
  const before = await fingerprint();
  const res = await send(op, req).catch((error: Error) => {
    throw new Error(`${op.method.toUpperCase()} ${op.template} ${JSON.stringify(req).slice(0, 600)}\n${error.message}`);
  });
  const context = `${op.method.toUpperCase()} ${op.template} → ${res.status} for ${JSON.stringify(req).slice(0, 600)}`;
  if (res.status >= 500) throw new Error(`server error: ${context}\n${JSON.stringify(res.body)}`);
  if (req.auth === 'none' && op.needsAuth && res.status !== 401) throw new Error(`no key but not 401: ${context}`);
  if (res.status >= 400 && (await fingerprint()) !== before) throw new Error(`a refused request changed the database: ${context}`);
}

function requestArbitrary(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const pathArb = fc.record(
    Object.fromEntries(
      pathParams.map((p) => [
        p.name,
        fc.oneof(
          { arbitrary: fc.constantFrom(...((hints.known[p.name] as string[]) ?? ['1'])), weight: 8 },
          { arbitrary: fc.maxSafeNat().map(String), weight: 1 },
          { arbitrary: fc.constantFrom(...nastyPathIds), weight: 1 },
        ),
      ]),
    ),
  ) as fc.Arbitrary<Record<string, string>>;
  const queryArb = fc.record(
    Object.fromEntries(
      queryParams.map((p) => [p.name, fc.option(arbitraryFor(p.schema, resolve, hints, p.name), { freq: p.required ? 12 : 2, nil: undefined })]),
    ),
  ) as fc.Arbitrary<Record<string, unknown>>;
  const headerArb = fc.record(
    Object.fromEntries(
      headerParams.map((p) => [
        p.name,
        fc.option(fc.oneof(fc.stringMatching(/^[!-~]{1,40}$/), fc.constant('k'.repeat(300))), { freq: 3, nil: undefined }),
      ]),
    ),
  ).map((headers) => Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>);
  const bodyArb = op.body ? fc.option(arbitraryFor(op.body, resolve, hints, ''), { freq: 20, nil: undefined }) : fc.constant(undefined);
  const authArb = fc.constantFrom<FuzzRequest['auth']>('own', 'own', 'own', 'own', 'own', 'own', 'own', 'none', 'other', 'bogus');
  return fc.record({ path: pathArb, query: queryArb, headers: headerArb, body: bodyArb, auth: authArb });
}

const known = (name: string, format?: string): unknown[] | undefined => hints.known[`${name}|${format ?? ''}`] ?? hints.known[name];
const first = (name: string, format?: string) => (known(name, format) ?? [1])[0];

/** The object's required fields (and known optional ones up to minProperties), with known-good values. */
function minimal(schema: Schema): Record<string, unknown> {
  const properties = (schema.properties as Record<string, Schema>) ?? {};
  const format = (name: string) => resolve(properties[name] ?? {}).format as string | undefined;
  const object: Record<string, unknown> = {};
  // A required field no hint covers (a status, say) gets a valid value of its own schema.
  for (const name of (schema.required as string[]) ?? []) object[name] = known(name, format(name)) ? first(name, format(name)) : sampleOf(valueSchema(properties[name] ?? {}, resolve));
  // "One of these is required" (allOf: [{anyOf: [{required: [a]}, {required: [b]}]}]): the first alternative with known values.
  for (const { anyOf } of (schema.allOf as Array<{ anyOf?: Schema[] }>) ?? []) {
    const alternatives = (anyOf ?? []).map((alternative) => (alternative.required as string[]) ?? []);
    if (alternatives.some((names) => names.every((name) => name in object))) continue;
    const usable = alternatives.find((names) => names.every((name) => known(name, format(name))));
    for (const name of usable ?? []) object[name] = first(name, format(name));
  }
  for (const name of Object.keys(properties)) {
    if (Object.keys(object).length >= ((schema.minProperties as number) ?? 0)) break;
    if (!(name in object) && known(name, format(name))) object[name] = first(name, format(name));
  }
  return object;
}

/** A plausible request of the operation, to vary one field of it at a time. */
function baseline(op: Operation): FuzzRequest {
  const schema = op.body ? resolve(op.body) : undefined;
  const body = schema ? minimal(schema) : {};
  return {
    path: Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, String(first(p.name))])),
    query: Object.fromEntries(
      op.parameters.filter((p) => p.in === 'query' && p.required).map((p) => [p.name, first(p.name, resolve(p.schema).format as string | undefined)]),
    ),
    headers: {},
    body: op.body ? body : undefined,
    auth: 'own',
  };
}

/** Hand-written trouble for one operation: nasty values in each field, broken transports. */
function nastyRequests(op: Operation): FuzzRequest[] {
  const base = baseline(op);
  const cases: FuzzRequest[] = [];
  for (const auth of ['none', 'bogus', 'other'] as const) cases.push({ ...base, auth });
  for (const p of op.parameters.filter((p) => p.in === 'path')) {
    for (const value of nastyPathIds) cases.push({ ...base, path: { ...base.path, [p.name]: value } });
  }
  for (const p of op.parameters.filter((p) => p.in === 'query')) {
    for (const value of nastyValues) cases.push({ ...base, query: { ...base.query, [p.name]: value } });
  }
  cases.push({ ...base, query: { ...base.query, unexpected: 'x' } });
  for (const p of op.parameters.filter((p) => p.in === 'header')) {
    for (const value of ['', 'k'.repeat(300), 'ü'.replace('ü', '?'), "'; drop table x; --"]) cases.push({ ...base, headers: { [p.name]: value } });
  }
  if (op.body) {
    const schema = resolve(op.body);
    const fields = Object.keys((schema.properties as object) ?? {});
    for (const field of fields) {
      for (const value of nastyValues) cases.push({ ...base, body: { ...(base.body as object), [field]: value } });
      if (resolve((schema.properties as Record<string, Schema>)[field]!).type === 'object') {
        cases.push({ ...base, body: { ...(base.body as object), [field]: { email: 'a@b.co', nested: { deep: [1, 2, 3] } } } });
      }
    }
    cases.push({ ...base, body: { ...(base.body as object), unexpected: 1 } });
    cases.push({ ...base, body: undefined, rawBody: '{"date": ' });
    cases.push({ ...base, body: undefined, rawBody: '' });
    cases.push({ ...base, body: undefined, rawBody: 'null' });
    cases.push({ ...base, body: undefined, rawBody: '[]' });
    cases.push({ ...base, body: undefined, rawBody: '"text"' });
    cases.push({ ...base, contentType: 'text/plain' });
    cases.push({ ...base, contentType: 'application/x-www-form-urlencoded', body: undefined, rawBody: 'guests=2' });
    cases.push({ ...base, body: { ...(base.body as object), notes: 'n'.repeat(40 * 1024) } });
    cases.push({ ...base, body: undefined, rawBody: `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}` });
  }
  return cases;
}

interface Field {
  where: 'path' | 'query' | 'header' | 'body';
  name: string;
  schema: Schema;
  /** The body field holding this one (an inline `client`). */
  parent?: Schema & { name: string };
}

/** Every parameter and body field of the operation, one level into nested objects. */
function fieldsOf(op: Operation): Field[] {
  const fields: Field[] = op.parameters.map((p) => ({ where: p.in, name: p.name, schema: valueSchema(p.schema, resolve) }));
  const properties = (schema: Schema) => Object.entries((schema.properties as Record<string, Schema>) ?? {}).map(([name, child]) => [name, valueSchema(child, resolve)] as const);
  for (const [name, schema] of op.body ? properties(resolve(op.body)) : []) {
    if (schema.type !== 'object') fields.push({ where: 'body', name, schema });
    else for (const [inner, innerSchema] of properties(schema)) fields.push({ where: 'body', name: inner, schema: innerSchema, parent: { ...schema, name } });
  }
  return fields;
}

function withValue(base: FuzzRequest, field: Field, value: unknown): FuzzRequest {
  if (field.where === 'path') return { ...base, path: { ...base.path, [field.name]: String(value) } };
  if (field.where === 'query') return { ...base, query: { ...base.query, [field.name]: value } };
  if (field.where === 'header') return { ...base, headers: { ...base.headers, [field.name]: String(value) } };
  const body = { ...(base.body as Record<string, unknown>) };
  if (field.parent) body[field.parent.name] = { ...minimal(field.parent), [field.name]: value };
  else body[field.name] = value;
  return { ...base, body };
}

describe.each(operations.map((op) => [`${op.method.toUpperCase()} ${op.template}`, op] as const))('%s', (_name, op) => {
  test('generated requests: no 5xx, only documented answers, refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(op), (req) => check(op, req)),
      { seed: fuzzConfig.seed, numRuns: fuzzConfig.runsPerOperation, endOnFailure: true },
    );
  });

  test('hand-written nasty inputs: no 5xx, only documented answers, refusals change nothing', async () => {
    for (const req of nastyRequests(op)) await check(op, req);
  });

  test('every bound: the value at it gets through, one past it is refused with 400 naming the field', async () => {
    const base = baseline(op);
    for (const field of fieldsOf(op)) {
      const sample = known(field.name, field.schema.format as string | undefined)?.[0] ?? sampleOf(field.schema);
      for (const { bound, value, allowed } of boundaries(field.schema, sample)) {
        const req = withValue(base, field, value);
        await check(op, req);
        const res = await send(op, req);
        const error = (res.body as { error?: { message?: string } }).error ?? (res.body as { message?: string });
        const context = `${field.where} ${field.name} ${bound}: ${JSON.stringify(value).slice(0, 80)} → ${res.status} ${error.message ?? ''}`;
        if (allowed) expect({ context, refused: res.status === 400 }).toEqual({ context, refused: false });
        else expect({ context, named: res.status === 400 && String(error.message).toLowerCase().includes(field.name.toLowerCase()) }).toEqual({ context, named: true });
      }
    }
  });
});
