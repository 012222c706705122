// A private stack for one fault test: an embedded PostgreSQL in a temporary folder (kept between
// a stop and a start, so it can be restarted on the same port), a migrated database with the
// load restaurants, and the real API (`server/main.ts`) as a child process.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createDatabase, makeTemporaryDataDir, startEmbedded, withDatabase, type RunningPostgres } from '../../db/postgres';
import { migrateDatabase } from '../../db/migrate';
import { loadConfig } from '../../config';
import { prepareTarget } from '../../load/prepare';
import { startApiProcess, type ApiProcess } from '../../load/server-process';
import type { Target } from '../../load/scenario-types';
import { request } from '../../load/engine';

export interface FaultStack {
  url: string;
  target: Target;
  api: ApiProcess;
  /** Owner pool for checks (errors while PostgreSQL is down are swallowed). */
  pool: pg.Pool;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  startApi(): Promise<ApiProcess>;
  close(): Promise<void>;
}

export async function startFaultStack(apiEnv: NodeJS.ProcessEnv = {}): Promise<FaultStack> {
  const dataDir = await makeTemporaryDataDir();
  let postgres: RunningPostgres | null = await startEmbedded({ dataDir, persistent: true });
  const port = postgres.port;
  await createDatabase(postgres.adminUrl, 'nora_faults');
  const url = withDatabase(postgres.adminUrl, 'nora_faults');
  await migrateDatabase({ databaseUrl: url, apiRole: loadConfig({}).apiRole });
  const target = await prepareTarget(url);
  const env = { RATE_LIMIT_MAX: '10000000', LOG_LEVEL: 'silent', ...apiEnv };
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const stack: FaultStack = {
    url,
    target,
    pool,
    api: await startApiProcess({ databaseUrl: url, env }),
    async stopPostgres() {
      await postgres?.stop();
      postgres = null;
    },
    async startPostgres() {
      postgres = await startEmbedded({ dataDir, persistent: true, preferredPort: port });
      if (postgres.port !== port) throw new Error(`PostgreSQL came back on port ${postgres.port}, not ${port}`);
    },
    async startApi() {
      stack.api = await startApiProcess({ databaseUrl: url, env, port: stack.api.port });
      return stack.api;
    },
    async close() {
      await stack.api.stop();
      await pool.end();
      await postgres?.stop();
      await fs.rm(path.dirname(dataDir), { recursive: true, force: true });
    },
  };
  return stack;
}

/** Polls until `/ready` answers 200 (or the bounded time runs out); returns whether it did. */
export async function waitUntilReady(baseUrl: string, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if ((await request(baseUrl, 'GET', '/ready', { timeoutMs: 2000 })).status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}
