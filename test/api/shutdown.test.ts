// Issue 12 §2: stopping `npm start` (Ctrl-C, or SIGTERM from a supervisor) ends the API and worker
// pools before the embedded PostgreSQL stops, so nothing logs a lost connection (57P01) on the
// way out. `npm start`'s entry runs here as it does in a terminal, with its own data folder.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { freePort, makeTemporaryDataDir } from '../../db/postgres';

const root = path.resolve(__dirname, '..', '..');
// What `npm start` runs. Not the tsx command: it relays a signal to its child and, when the child
// has not said within 60 ms that it got it (a busy machine), kills it with SIGKILL and exits 130,
// leaving the embedded PostgreSQL running; seen in CI.
const start = ['--import', 'tsx', path.join(root, 'server', 'main.ts')];

let dataDir = '';
beforeAll(async () => {
  dataDir = path.dirname(await makeTemporaryDataDir());
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

interface Stopped {
  code: number | null;
  output: string;
}

/**
 * Starts `npm start`'s entry, waits for `API:`, asks /ready (so the pools hold connections),
 * then sends `signal`: to the whole process group as a terminal's Ctrl-C does, or to the
 * process alone as a supervisor does.
 */
async function startThenStop(signal: 'SIGINT' | 'SIGTERM', to: 'group' | 'process', env: Record<string, string> = {}): Promise<Stopped> {
  // The embedded database, not the test run's DATABASE_URL.
  const inherited = { ...process.env };
  delete inherited.DATABASE_URL;
  const child = spawn(process.execPath, start, {
    cwd: root,
    detached: true,
    env: { ...inherited, DATA_DIR: dataDir, PORT: String(await freePort()), EMBEDDED_PG_PORT: String(await freePort()), LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const found = /^API: (\S+)$/m.exec(output);
      if (found) return resolve(found[1]!);
      setTimeout(look, 100);
    };
    look();
    void exited.then((code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  expect((await fetch(`${url}/ready`)).status).toBe(200);
  process.kill(to === 'group' ? -child.pid! : child.pid!, signal);
  return { code: await exited, output };
}

/** Log lines (JSON on stdout) at warn or above, and any mention of a lost connection. */
function complaints(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    let entry: { level?: number; msg?: string } = {};
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      // Not a log line: the start-up banner, or PostgreSQL's own output.
    }
    const lost = /57P01|connection failed|listener down|terminating connection/i.test(line);
    return lost || (entry.level ?? 0) >= 40 ? [entry.msg ?? line] : [];
  });
}

const cases = [
  { name: 'Ctrl-C, one process', signal: 'SIGINT', to: 'group', env: {} },
  { name: 'SIGTERM, one process', signal: 'SIGTERM', to: 'process', env: {} },
  { name: 'Ctrl-C, API_WORKERS=2', signal: 'SIGINT', to: 'group', env: { API_WORKERS: '2' } },
  { name: 'SIGTERM, API_WORKERS=2', signal: 'SIGTERM', to: 'process', env: { API_WORKERS: '2' } },
] as const;

test.each(cases)('$name: exits 0 with no lost connection logged', async ({ signal, to, env }) => {
  const { code, output } = await startThenStop(signal, to, env);
  expect(complaints(output)).toEqual([]);
  expect(output).toMatch(/shutting down/);
  expect(code).toBe(0);
}, 120_000);
