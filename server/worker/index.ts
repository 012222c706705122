// The graphile-worker runner: runs inside `npm start` (WORKER_ENABLED) and as `npm run worker`.
// It connects with the owner's connection string (it reads webhook secrets, which the API role
// cannot), listens for new jobs and polls for retries every WORKER_POLL_INTERVAL_MS.
import { Logger as WorkerLogger, run, type LogLevel, type Runner } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../../config';
import { crontab, taskList } from './tasks';

export interface RunningWorker {
  runner: Runner;
  /** Takes no new jobs, lets running ones finish (a delivery is bounded by WEBHOOK_TIMEOUT_MS). */
  stop(): Promise<void>;
}

const LEVELS: Record<`${LogLevel}`, 'error' | 'warn' | 'info' | 'debug'> = { error: 'error', warning: 'warn', info: 'info', debug: 'debug' };

/** graphile-worker's log lines through our pino logger. */
export function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    logger[LEVELS[level]]({ worker: { ...scope, ...meta } }, message);
  });
}

export async function startWorker(config: Pick<Config, 'worker' | 'webhooks'>, logger: Logger, ownerUrl: string): Promise<RunningWorker> {
  // Our own pool, so a connection lost while idle (the database restarting or stopping first at
  // shutdown) is logged instead of crashing the process.
  const pool = new pg.Pool({ connectionString: ownerUrl, max: config.worker.concurrency + 2, application_name: 'nora-worker' });
  pool.on('error', (error) => logger.warn({ err: error }, 'idle worker database connection failed'));
  pool.on('connect', (client) => client.on('error', (error) => logger.warn({ err: error }, 'worker database connection failed while in use')));
  let runner: Runner;
  try {
    runner = await run({
      pgPool: pool,
      concurrency: config.worker.concurrency,
      pollInterval: config.worker.pollIntervalMs,
      noHandleSignals: true,
      logger: workerLogger(logger),
      taskList: taskList(config),
      crontab,
    });
  } catch (error) {
    await pool.end();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await runner.stop();
    await pool.end();
  };
  return { runner, stop: () => (stopping ??= stop()) };
}
