// What the global setup hands to the test files (through the environment, the only channel
// jest offers between the two), and the per-file fresh database built from it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, dropDatabase, withDatabase } from '../../db/postgres';
import { cloneCitusDatabase, dropCitusDatabase } from '../../db/citus';

export interface TestCluster {
  adminUrl: string;
  template?: string;
  citus?: boolean;
  stop?: () => Promise<void>;
}

export const TEST_ENV = {
  adminUrl: 'NORA_TEST_ADMIN_URL',
  template: 'NORA_TEST_TEMPLATE',
  apiRole: 'NORA_TEST_API_ROLE',
  defect: 'NORA_TEST_DEFECT',
  /** `citus`: DATABASE_URL is a Citus coordinator, and every database is distributed (README, Citus). */
  target: 'NORA_TEST_TARGET',
} as const;

/** Which engine the suite runs against: one PostgreSQL (the default) or a Citus cluster. */
export function testTarget(): 'postgres' | 'citus' {
  const target = process.env[TEST_ENV.target] ?? 'postgres';
  if (target !== 'postgres' && target !== 'citus') throw new Error(`${TEST_ENV.target} must be postgres or citus, not ${target}`);
  return target;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (global setup)`);
  return value;
}

export interface TestDatabase {
  /** Owner (superuser) connection string of this file's own database. */
  url: string;
  adminUrl: string;
  apiRole: string;
  /** Owner pool, for arranging data and calling the SQL functions as a DBA would. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A freshly migrated database of its own for one test file. */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = required(TEST_ENV.adminUrl);
  const template = required(TEST_ENV.template);
  const name = `${template.replace(/_template$/, '')}_${randomBytes(4).toString('hex')}`;
  const citus = testTarget() === 'citus';
  if (citus) await cloneCitusDatabase(adminUrl, template, name);
  else await createDatabase(adminUrl, name, template);
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  return {
    url,
    adminUrl,
    apiRole: required(TEST_ENV.apiRole),
    pool,
    drop: async () => {
      await pool.end();
      if (citus) await dropCitusDatabase(adminUrl, name);
      else await dropDatabase(adminUrl, name);
    },
  };
}

/** `count` connections of their own to a database, for racing real transactions in parallel. */
export async function connections(url: string, count: number): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    }),
  );
}
