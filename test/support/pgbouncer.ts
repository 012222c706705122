// A PgBouncer of the test's own (Debian's package, which .ci/run installs) on a free port in
// front of one database: the settings of deploy/pgbouncer.ini, with the machine-specific ones
// replaced, written to a temporary folder; stopped after.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../../db/postgres';

export const PGBOUNCER = '/usr/sbin/pgbouncer';
export const hasPgBouncer = existsSync(PGBOUNCER);
export const EXAMPLE_INI = path.resolve(__dirname, '..', '..', 'deploy', 'pgbouncer.ini');

/** The `key = value` settings of one section of an ini file, in order, comments left out. */
export function iniSection(text: string, section: string): Map<string, string> {
  const settings = new Map<string, string>();
  let current = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1]!;
    else if (current === section && !/^[;#]/.test(line) && line.includes('=')) {
      const at = line.indexOf('=');
      settings.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
    }
  }
  return settings;
}

/** PgBouncer's version as [major, minor], from `pgbouncer --version`. */
export function pgBouncerVersion(): [number, number] {
  const match = /PgBouncer (\d+)\.(\d+)/.exec(execFileSync(PGBOUNCER, ['--version'], { encoding: 'utf8' }));
  if (!match) throw new Error('pgbouncer --version did not name a version');
  return [Number(match[1]), Number(match[2])];
}

/** Named prepared statements in transaction mode came with 1.21 (`max_prepared_statements`). */
export function tracksPreparedStatements([major, minor]: [number, number]): boolean {
  return major > 1 || minor >= 21;
}

export interface PgBouncerOptions {
  /** The database behind it; PgBouncer logs in as each client's own user with the userlist's password. */
  databaseUrl: string;
  user: string;
  password: string;
  /** Server connections per user and database: fewer than the API's pool, so connections are shared. */
  poolSize: number;
  /** Keeps the example's max_prepared_statements; a PgBouncer before 1.21 does not know the setting. */
  preparedStatements: boolean;
}

export interface TestPgBouncer {
  /** The client's URL through PgBouncer. */
  url: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startPgBouncer(options: PgBouncerOptions): Promise<TestPgBouncer> {
  const target = new URL(options.databaseUrl);
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'nora-pgbouncer-'));
  chmodSync(dir, 0o755);
  const settings = iniSection(readFileSync(EXAMPLE_INI, 'utf8'), 'pgbouncer');
  if (!options.preparedStatements) settings.delete('max_prepared_statements');
  settings.set('listen_addr', '127.0.0.1');
  settings.set('listen_port', String(port));
  settings.set('unix_socket_dir', '');
  settings.set('auth_type', 'trust');
  settings.set('auth_file', path.join(dir, 'userlist.txt'));
  settings.set('default_pool_size', String(options.poolSize));
  // PgBouncer refuses to run as root; as root it drops to `nobody`, who must read the folder.
  if (process.getuid?.() === 0) settings.set('user', 'nobody');
  const ini = [
    '[databases]',
    `nora = host=${target.hostname} port=${target.port || 5432} dbname=${target.pathname.slice(1)}`,
    '[pgbouncer]',
    ...[...settings].map(([key, value]) => `${key} = ${value}`),
  ];
  writeFileSync(path.join(dir, 'pgbouncer.ini'), `${ini.join('\n')}\n`, { mode: 0o644 });
  writeFileSync(path.join(dir, 'userlist.txt'), `"${options.user}" "${options.password}"\n`, { mode: 0o644 });
  const output: string[] = [];
  const child: ChildProcess = spawn(PGBOUNCER, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (data: Buffer) => output.push(data.toString()));
  child.stderr!.on('data', (data: Buffer) => output.push(data.toString()));
  const url = `postgres://${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}@127.0.0.1:${port}/nora`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i += 1) {
    const probe = new pg.Client({ connectionString: url });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.query('select 1');
      await probe.end();
      return { url, stop };
    } catch {
      await probe.end().catch(() => undefined);
      if (child.exitCode !== null) break;
      await sleep(50);
    }
  }
  await stop();
  throw new Error(`pgbouncer did not answer on port ${port}:\n${output.join('')}`);
}
