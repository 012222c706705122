// `npm start`: the database (embedded unless DATABASE_URL is set) up, migrated and seeded, then
// the API on PORT until SIGTERM or Ctrl-C.
import { loadConfig } from './config';
import { createLogger } from './logger';
import { startApi } from './server';
import { startWorker } from './worker';
import { openMigratedDatabase } from '../db/setup';
import { seedDemo, rememberDemoKey, rememberedDemoKey } from '../db/seed';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openMigratedDatabase(config);
  const seeded = await seedDemo(db.url);
  if (seeded && db.embedded) await rememberDemoKey(config.dataDir, seeded.apiKey);
  const key = seeded?.apiKey ?? (db.embedded ? await rememberedDemoKey(config.dataDir) : null);
  const api = await startApi(config, logger, db.url).catch(async (error: unknown) => {
    await db.close();
    throw error;
  });
  // The webhook worker in the same process (WORKER_ENABLED; `npm run worker` runs it apart).
  const worker = config.worker.enabled ? await startWorker(config, logger, db.url) : null;
  console.log(`Database: ${db.url}`);
  console.log(`Demo API key: ${key ?? '(created at first seed; make another with select booking.create_api_key(1, $$label$$))'}`);
  console.log(`API: ${api.url}`);
  console.log(`Docs: ${api.url}/docs`);
  console.log(`MCP: ${api.url}/mcp`);
  console.log(`Webhooks: ${worker ? `delivered by this process, ${config.worker.concurrency} at a time` : 'not delivered here (WORKER_ENABLED=false)'}`);
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await api.close();
    await worker?.stop();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
