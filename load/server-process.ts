// Runs the API (`server/main.ts`) as a child process, as `npm start` would, and waits for the
// line that gives its URL. Used by the load driver, the benchmark and the fault tests (which
// kill it mid-load), so the server under test is the real entry point, not an in-process app.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../db/postgres';

const root = path.resolve(__dirname, '..');

export interface ApiProcess {
  baseUrl: string;
  port: number;
  child: ChildProcess;
  /** Last lines the process printed (for error messages). */
  output(): string;
  /** SIGTERM (graceful shutdown) and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
}

export interface ApiProcessOptions {
  databaseUrl: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  /** Extra flags for node, e.g. ['--cpu-prof'] to profile the API under load. */
  nodeArgs?: string[];
}

export async function startApiProcess(options: ApiProcessOptions): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(root, 'server', 'main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      ...options.env,
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const remember = (chunk: Buffer) => {
    tail.push(chunk.toString('utf8'));
    while (tail.length > 40) tail.shift();
  };
  child.stdout!.on('data', remember);
  child.stderr!.on('data', remember);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`API did not start within ${options.startTimeoutMs ?? 60000} ms:\n${tail.join('')}`)),
      options.startTimeoutMs ?? 60000,
    );
    const onData = () => {
      const match = /API: (http:\/\/\S+)/.exec(tail.join(''));
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code} before it started:\n${tail.join('')}`));
    });
  });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return {
    baseUrl,
    port,
    child,
    output: () => tail.join(''),
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
  };
}
