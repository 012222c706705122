// `npm run citus:local [start|stop|url]`: a Citus cluster on this machine for trying the
// distributed schema and for the distributed test suite: a coordinator and two workers on free
// local ports, from a PostgreSQL that has the citus extension installed (CI builds it from
// source; elsewhere use a package or the official citusdata/citus images). Prints the URL of a
// database `nora` on the coordinator, ready for `DATABASE_URL=… npm run db:distribute`.
//
//   --dir <folder>   where the three data folders live (default: <tmp>/nora-citus)
//   --bin <folder>   PostgreSQL's bin folder (default: the first /usr/lib/postgresql/*/bin whose
//                    installation has citus.so)
//
// Settings of the throwaway nodes: trust authentication on 127.0.0.1 only, fsync off, 8 shards
// per distributed table (Citus's default is 32; fewer keep a test database small and quick to
// copy), 300 connections and 64 background workers per node.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, appendFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './postgres';
import { createCitusDatabase } from './citus';

interface State {
  bin: string;
  nodes: { port: number; dataDir: string }[];
  url: string;
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function findBin(): string {
  const given = option('bin');
  if (given) return given;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    if (existsSync(path.join(root, version, 'lib', 'citus.so'))) return path.join(root, version, 'bin');
  }
  throw new Error(`no PostgreSQL with the citus extension under ${root} (pass --bin <folder>)`);
}

const dir = path.resolve(option('dir') ?? path.join(os.tmpdir(), 'nora-citus'));
const stateFile = path.join(dir, 'cluster.json');
const asRoot = os.userInfo().uid === 0;

// PostgreSQL refuses to run as root: as root, its programs run as the OS user postgres.
function run(bin: string, program: string, args: string[]): void {
  const file = path.join(bin, program);
  if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'pipe' });
  else execFileSync(file, args, { stdio: 'pipe' });
}

async function sql(port: number, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function start(): Promise<State> {
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
    console.error(`A cluster is already recorded in ${stateFile}; stop it first (npm run citus:local stop --dir ${dir}).`);
    return state;
  }
  const bin = findBin();
  mkdirSync(dir, { recursive: true });
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const nodes: State['nodes'] = [];
  for (const name of ['coordinator', 'worker1', 'worker2']) {
    const dataDir = path.join(dir, name);
    const port = await freePort();
    run(bin, 'initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--encoding=UTF8', '--locale=C']);
    const conf = [
      "shared_preload_libraries = 'citus'",
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      "unix_socket_directories = ''",
      'max_connections = 300',
      // Citus runs a maintenance daemon per database: one per test file's database.
      'max_worker_processes = 64',
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'citus.shard_count = 8',
      // A booking waits for no one behind a lost race for longer than this anyway (see the
      // deadlock notes in DESIGN.md); distributed deadlocks are found by the coordinator's daemon.
      "citus.distributed_deadlock_detection_factor = 1.5",
    ];
    appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# npm run citus:local\n${conf.join('\n')}\n`);
    run(bin, 'pg_ctl', ['-D', dataDir, '-l', path.join(dataDir, 'server.log'), '-w', 'start']);
    nodes.push({ port, dataDir });
    await sql(port, ['create extension citus']);
  }
  const [coordinator, ...workers] = nodes;
  await sql(coordinator!.port, [
    `select citus_set_coordinator_host('127.0.0.1', ${coordinator!.port})`,
    ...workers.map((worker) => `select citus_add_node('127.0.0.1', ${worker.port})`),
  ]);
  const adminUrl = `postgres://postgres@127.0.0.1:${coordinator!.port}/postgres`;
  await createCitusDatabase(adminUrl, 'nora');
  const state: State = { bin, nodes, url: `postgres://postgres@127.0.0.1:${coordinator!.port}/nora` };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  return state;
}

function stop(): void {
  if (!existsSync(stateFile)) {
    console.error(`No cluster recorded in ${stateFile}.`);
    return;
  }
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  for (const node of state.nodes) {
    try {
      run(state.bin, 'pg_ctl', ['-D', node.dataDir, '-m', 'fast', '-w', 'stop']);
    } catch {
      // already stopped
    }
  }
  rmSync(dir, { recursive: true, force: true });
  console.error(`Stopped the cluster in ${dir}.`);
}

async function main(command = 'start'): Promise<void> {
  if (command === 'start') {
    const state = await start();
    console.error(`Citus: coordinator on port ${state.nodes[0]!.port}, workers on ${state.nodes.slice(1).map((n) => n.port).join(' and ')} (data in ${dir}).`);
    console.error('Distribute the schema with: DATABASE_URL=<the URL below> npm run db:distribute');
    console.log(state.url);
  } else if (command === 'stop') {
    stop();
  } else if (command === 'url') {
    if (!existsSync(stateFile)) throw new Error(`No cluster recorded in ${stateFile}.`);
    console.log((JSON.parse(readFileSync(stateFile, 'utf8')) as State).url);
  } else {
    throw new Error('usage: npm run citus:local [start|stop|url] [-- --dir <folder>] [--bin <folder>]');
  }
}

main(process.argv[2]?.startsWith('--') ? undefined : process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
