// `npm start`: the database (embedded unless DATABASE_URL is set) up, migrated and seeded, then
// the API on PORT until SIGTERM or Ctrl-C. With API_WORKERS > 1 this process only prepares the
// database and runs that many API processes (node:cluster) sharing the port; one that dies is
// replaced.
import cluster from 'node:cluster';
import { loadConfig, type Config } from '../config';
import { createLogger } from './logger';
import { startApi } from './server';
import { startWorker, type RunningWorker } from './worker';
import { openMigratedDatabase } from '../db/setup';
import { seedDemo, rememberDemoKey, rememberedDemoKey } from '../db/seed';

async function prepareDatabase(config: Config) {
  // Stopped by `single` and `primary` on SIGINT/SIGTERM, after the pools that use it.
  const db = await openMigratedDatabase(config, false, { stoppedByCaller: true });
  const seeded = await seedDemo(db.url);
  if (seeded && db.embedded) await rememberDemoKey(config.dataDir, seeded.apiKey);
  const key = seeded?.apiKey ?? (db.embedded ? await rememberedDemoKey(config.dataDir) : null);
  return { db, key };
}

function announce(dbUrl: string, key: string | null, url: string, workers: number, config: Config, worker: RunningWorker | null): void {
  console.log(`Database: ${dbUrl}`);
  console.log(`Demo API key: ${key ?? '(created at first seed; make another with select booking.create_api_key(1, $$label$$))'}`);
  if (workers > 1) console.log(`API processes: ${workers}`);
  console.log(`API: ${url}`);
  console.log(`Docs: ${url}/docs`);
  console.log(`MCP: ${url}/mcp`);
  console.log(`Webhooks: ${worker ? `delivered by this process, ${config.worker.concurrency} at a time` : 'not delivered here (WORKER_ENABLED=false)'}`);
}

/** The webhook worker and hold sweep, once per `npm start` (WORKER_ENABLED; `npm run worker` runs it apart). */
const startJobs = (config: Config, logger: ReturnType<typeof createLogger>, dbUrl: string) =>
  config.worker.enabled ? startWorker(config, logger, dbUrl) : Promise.resolve(null);

/**
 * Runs `stop` on the first SIGINT or SIGTERM. Later ones (Ctrl-C pressed again, a supervisor's
 * SIGTERM after it) are ignored rather than left to Node's default, exit at once: an exit half-way
 * would leave the embedded PostgreSQL running.
 */
function onceStopped(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

async function single(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const { db, key } = await prepareDatabase(config);
  const api = await startApi(config, logger, db.url).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  const jobs = await startJobs(config, logger, db.url);
  announce(db.url, key, api.url, 1, config, jobs);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await api.close();
    await jobs?.stop();
    await db.close();
    process.exit(0);
  };
  onceStopped(stop);
}

/** The primary: the database, then API_WORKERS workers; on SIGTERM they stop first, then the database. */
async function primary(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const { db, key } = await prepareDatabase(config);
  let stopping = false;
  // The workers read the same settings, with the database this process prepared.
  const fork = () => cluster.fork({ DATABASE_URL: db.url });
  const listening = new Promise<string>((resolve) => {
    let ready = 0;
    cluster.on('listening', (_worker, address) => {
      ready += 1;
      if (ready === config.workers) resolve(`http://${['0.0.0.0', '::', null, ''].includes(address.address) ? '127.0.0.1' : address.address}:${address.port}`);
    });
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'API process died; starting another');
    fork();
  });
  for (let i = 0; i < config.workers; i += 1) fork();
  const jobs = await startJobs(config, logger, db.url);
  announce(db.url, key, await listening, config.workers, config, jobs);
  const stop = async (signal: string) => {
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
    await jobs?.stop();
    await db.close();
    process.exit(0);
  };
  onceStopped(stop);
}

async function worker(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const api = await startApi(config, logger, config.databaseUrl);
  const stop = async () => {
    await api.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  // Ctrl-C reaches every process of the group: the primary decides when workers stop.
  process.on('SIGINT', () => undefined);
}

function main(): Promise<void> {
  const config = loadConfig();
  if (cluster.isWorker) return worker(config);
  return config.workers > 1 ? primary(config) : single(config);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
