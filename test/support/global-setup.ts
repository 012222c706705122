// Once per `jest` run: a PostgreSQL to test against (DATABASE_URL's server, or a throwaway
// embedded one) and a migrated template database that each test file clones (the committed
// migrations and current.sql, so that a migration is tested before it is committed).
import { loadConfig } from '../../config';
import { createDatabase, makeTemporaryDataDir, startEmbedded, withDatabase } from '../../db/postgres';
import { migrateDatabase } from '../../db/migrate';
import { plantDefect } from '../mutation/plant';
import { createCitusDatabase } from '../../db/citus';
import { distributeDatabase } from '../../db/distribute';
import { TEST_ENV, testTarget, type TestCluster } from './cluster';

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  const citus = testTarget() === 'citus';
  if (citus && !config.databaseUrl) {
    throw new Error(`${TEST_ENV.target}=citus needs DATABASE_URL at a Citus coordinator (npm run citus:local prints one)`);
  }
  let cluster: TestCluster;
  if (config.databaseUrl) {
    cluster = { adminUrl: withDatabase(config.databaseUrl, 'postgres') };
  } else {
    const server = await startEmbedded({ dataDir: await makeTemporaryDataDir(), persistent: false, fast: true });
    cluster = { adminUrl: server.adminUrl, stop: () => server.stop() };
  }
  const template = `nora_test_${process.pid}_template`;
  if (citus) {
    // The same migrations, then the same distribution a user runs (npm run db:distribute).
    await createCitusDatabase(cluster.adminUrl, template, new URL(cluster.adminUrl).hostname);
    await migrateDatabase({ databaseUrl: withDatabase(cluster.adminUrl, template), apiRole: config.apiRole, current: true });
    await distributeDatabase(withDatabase(cluster.adminUrl, template), config.apiRole);
    cluster.citus = true;
  } else {
    await createDatabase(cluster.adminUrl, template);
    await migrateDatabase({ databaseUrl: withDatabase(cluster.adminUrl, template), apiRole: config.apiRole, current: true });
  }
  // `npm run mutate:sql` runs the suite against a template with one defect planted.
  const defect = process.env[TEST_ENV.defect];
  if (defect) await plantDefect(withDatabase(cluster.adminUrl, template), defect);
  cluster.template = template;
  (globalThis as { __noraCluster?: TestCluster }).__noraCluster = cluster;
  process.env[TEST_ENV.adminUrl] = cluster.adminUrl;
  process.env[TEST_ENV.template] = template;
  process.env[TEST_ENV.apiRole] = config.apiRole;
}
