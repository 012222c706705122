// `npm run worker`: the webhook worker as a process of its own (several may run, against the
// database in DATABASE_URL; jobs are taken with SKIP LOCKED), until SIGTERM or Ctrl-C. `npm start`
// runs the same worker inside the API process unless WORKER_ENABLED=false.
import { loadConfig } from '../../config';
import { createLogger } from '../logger';
import { migrateDatabase } from '../../db/migrate';
import { startWorker } from './index';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    throw new Error('npm run worker needs DATABASE_URL (the embedded database belongs to npm start, which runs the worker itself)');
  }
  const logger = createLogger(config.logLevel);
  await migrateDatabase({ databaseUrl: config.databaseUrl, apiRole: config.apiRole });
  const worker = await startWorker(config, logger, config.databaseUrl);
  console.log(`Worker: delivering webhooks, ${config.worker.concurrency} at a time`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'worker shutting down');
    await worker.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
