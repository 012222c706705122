// The database a load run works on. Without LOAD_URL the driver starts the API itself, on a fresh
// `nora_load` database: on DATABASE_URL's server when set, otherwise on an embedded PostgreSQL
// kept in .data/load/postgres (so `npm run load:verify` can open it again afterwards). With
// LOAD_URL the API runs elsewhere and DATABASE_URL must be that API's own database (used as is).
import path from 'node:path';
import { createDatabase, dropDatabase, startEmbedded, withDatabase, type RunningPostgres } from '../db/postgres';
import { migrateDatabase } from '../db/migrate';
import { loadConfig } from '../config';

export const loadDataDir = path.resolve(__dirname, '..', '.data', 'load');
const embeddedDir = path.join(loadDataDir, 'postgres');
const LOAD_DATABASE = 'nora_load';

/** How to find the database again after the run (stored in the run record). */
export interface DatabaseLocation {
  /** Set when the database is on a server we can reach by URL (DATABASE_URL). */
  url?: string;
  /** Set when the database lives in the embedded cluster under .data/load. */
  embedded?: { dataDir: string; database: string };
}

export interface LoadDatabase {
  url: string;
  location: DatabaseLocation;
  close(): Promise<void>;
}

let embedded: RunningPostgres | null = null;

async function startLoadCluster(dataDir: string): Promise<RunningPostgres> {
  return startEmbedded({ dataDir, persistent: true, fast: true });
}

/** A freshly created and migrated `nora_load` database (or, with LOAD_URL, DATABASE_URL as is). */
export async function openFreshLoadDatabase(env: NodeJS.ProcessEnv = process.env): Promise<LoadDatabase> {
  const config = loadConfig(env);
  if (env.LOAD_URL) {
    if (!config.databaseUrl) throw new Error('LOAD_URL needs DATABASE_URL: the database that API uses (to prepare and verify)');
    return { url: config.databaseUrl, location: { url: config.databaseUrl }, close: async () => {} };
  }
  let adminUrl: string;
  if (config.databaseUrl) {
    adminUrl = withDatabase(config.databaseUrl, 'postgres');
  } else {
    embedded = await startLoadCluster(embeddedDir);
    adminUrl = embedded.adminUrl;
  }
  await dropDatabase(adminUrl, LOAD_DATABASE);
  await createDatabase(adminUrl, LOAD_DATABASE);
  const url = withDatabase(adminUrl, LOAD_DATABASE);
  await migrateDatabase({ databaseUrl: url, apiRole: config.apiRole });
  const cluster = embedded;
  return {
    url,
    location: cluster ? { embedded: { dataDir: cluster.dataDir, database: LOAD_DATABASE } } : { url },
    close: async () => {
      await cluster?.stop();
    },
  };
}

/** Opens the database a finished run used, for the invariant checks. */
export async function reopenLoadDatabase(location: DatabaseLocation): Promise<LoadDatabase> {
  if (location.url) return { url: location.url, location, close: async () => {} };
  if (!location.embedded) throw new Error('the run record names no database');
  const cluster = await startLoadCluster(location.embedded.dataDir);
  return { url: withDatabase(cluster.adminUrl, location.embedded.database), location, close: () => cluster.stop() };
}
