// Brings up the database `npm start` and the db scripts work on: the one in DATABASE_URL, or
// an embedded PostgreSQL kept in DATA_DIR between runs. Migrates it, and seeds it on request.
import path from 'node:path';
import type { Config } from '../config';
import { createDatabase, databaseExists, startEmbedded, withDatabase, type EmbeddedOptions } from './postgres';
import { migrateDatabase } from './migrate';

export interface OpenDatabase {
  /** Owner connection: migrations, seeding, DBA work. */
  url: string;
  /** Maintenance database of the same server, for create/drop database. */
  adminUrl: string;
  embedded: boolean;
  close(): Promise<void>;
}

const EMBEDDED_DATABASE = 'nora';

/** `embedded.stoppedByCaller`: the caller closes its connections, then the database, on SIGINT/SIGTERM. */
export async function openDatabase(config: Config, embedded: Pick<EmbeddedOptions, 'stoppedByCaller'> = {}): Promise<OpenDatabase> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, adminUrl: withDatabase(config.databaseUrl, 'postgres'), embedded: false, close: async () => {} };
  }
  const server = await startEmbedded({
    dataDir: path.join(config.dataDir, 'postgres'),
    persistent: true,
    preferredPort: config.embeddedPort,
    ...embedded,
  });
  if (!(await databaseExists(server.adminUrl, EMBEDDED_DATABASE))) {
    await createDatabase(server.adminUrl, EMBEDDED_DATABASE);
  }
  return { url: withDatabase(server.adminUrl, EMBEDDED_DATABASE), adminUrl: server.adminUrl, embedded: true, close: () => server.stop() };
}

export async function openMigratedDatabase(config: Config, verbose = false, embedded: Pick<EmbeddedOptions, 'stoppedByCaller'> = {}): Promise<OpenDatabase> {
  const db = await openDatabase(config, embedded);
  try {
    await migrateDatabase({ databaseUrl: db.url, apiRole: config.apiRole, verbose });
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
