// Applies the committed graphile-migrate migrations programmatically. `.gmrc` stays the single
// source of the migration settings (the graphile-migrate CLI reads it too); only the connection
// and the placeholder values come from our validated configuration.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { migrate, watch, type Settings } from 'graphile-migrate';
import { Logger } from '@graphile/logger';
import { runMigrations as installWorkerSchema, Logger as WorkerLogger } from 'graphile-worker';
// graphile-migrate keeps its pool open for a moment after migrating and exits the process if
// that pool sees an error (a database restarted or dropped right after); we close it at once.
import { clearAllPools } from 'graphile-migrate/dist/pgReal';

const root = path.resolve(__dirname, '..');
const gmrc = JSON.parse(readFileSync(path.join(root, '.gmrc'), 'utf8')) as Settings;
export const migrationsFolder = path.resolve(root, gmrc.migrationsFolder ?? 'migrations');

export interface MigrateOptions {
  databaseUrl: string;
  apiRole: string;
  /** Print graphile-migrate's progress lines (the CLI does, tests and the server do not). */
  verbose?: boolean;
  /**
   * Also run current.sql, the migration being written (graphile-migrate watch --once), after the
   * committed ones: the tests do, so that they exercise it before it is committed; the server
   * and the CLI never do.
   */
  current?: boolean;
}

const silent = new Logger(() => () => undefined);
const silentWorker = new WorkerLogger(() => () => undefined);

export async function migrateDatabase({ databaseUrl, apiRole, verbose, current }: MigrateOptions): Promise<void> {
  // graphile-worker's own schema (graphile_worker: the job queue the webhook outbox writes to)
  // first, so graphile_worker.add_job exists before any of our triggers calls it.
  await installWorkerSchema({ connectionString: databaseUrl, ...(verbose ? {} : { logger: silentWorker }) });
  const settings: Settings = {
    ...gmrc,
    connectionString: databaseUrl,
    migrationsFolder,
    placeholders: { ':DATABASE_API_ROLE': apiRole },
    ...(verbose ? {} : { logger: silent }),
  };
  if (current) await watch(settings, true);
  else await migrate(settings);
  clearAllPools();
}

/** Names of the committed migrations, in order; `/ready` compares them with the database. */
export function committedMigrations(): string[] {
  return readdirSync(path.join(migrationsFolder, 'committed'))
    .filter((file) => file.endsWith('.sql'))
    .sort();
}
