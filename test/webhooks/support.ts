// A real HTTP receiver for webhooks (node:http on a free port) and a real graphile-worker
// runner around a test database.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { createLogger } from '../../server/logger';
import { loadConfig } from '../../config';
import { startWorker, type RunningWorker } from '../../server/worker';

export interface Received {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `n` requests have arrived (all of them, answered or not). */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** `answer(n)` is the status of the n-th request (0-based); null leaves it unanswered. */
export async function startReceiver(answer: (n: number) => number | null = () => 204): Promise<Receiver> {
  const received: Received[] = [];
  let waiters: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const n = received.length;
      received.push({ method: req.method!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      waiters.forEach((wake) => wake());
      const status = answer(n);
      if (status !== null) res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return {
    url,
    received,
    waitFor: (n, timeoutMs = 20_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= n) {
            clearTimeout(timer);
            waiters = waiters.filter((w) => w !== check);
            resolve(received.slice(0, n));
          }
        };
        const timer = setTimeout(() => reject(new Error(`expected ${n} webhook requests, got ${received.length}`)), timeoutMs);
        waiters.push(check);
        check();
      }),
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface LogLine {
  level: number;
  msg: string;
  worker?: Record<string, unknown>;
  err?: { code?: string };
}

/** A logger at debug level whose lines are kept, parsed, for the test to read. */
export function captureLogs(): { lines: LogLine[]; logger: ReturnType<typeof createLogger> } {
  const lines: LogLine[] = [];
  return { lines, logger: createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) }) };
}

/** The worker as `npm start` runs it, polling fast so retries moved to now are picked up. */
export function startTestWorker(url: string, env: Record<string, string> = {}, logger = createLogger('silent')): Promise<RunningWorker> {
  const config = loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent', WORKER_POLL_INTERVAL_MS: '100', WEBHOOK_TIMEOUT_MS: '2000', ...env });
  return startWorker(config, logger, url);
}

/**
 * A failed job waits exp(attempts) seconds (then minutes, hours) before graphile-worker retries
 * it. The tests do what a DBA would to retry at once: move the job's run_at to now (its own
 * graphile_worker.reschedule_jobs), then wait for the worker's next poll.
 */
export async function retryNow(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from graphile_worker.reschedule_jobs(
       array(select id from graphile_worker.jobs where task_identifier = 'deliver_webhook' and locked_at is null and attempts > 0),
       run_at => now())`,
  );
  return rows[0]!.n;
}

/** Waits until `check` holds, polling. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
