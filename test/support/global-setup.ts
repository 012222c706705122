// Once per `jest` run: a PostgreSQL to test against (DATABASE_URL's server, or a throwaway
// embedded one) and a migrated template database that each test file clones.
import { loadConfig } from '../../config';
import { createDatabase, makeTemporaryDataDir, startEmbedded, withDatabase } from '../../db/postgres';
import { migrateDatabase } from '../../db/migrate';
import { plantDefect } from '../mutation/plant';
import { TEST_ENV, type TestCluster } from './cluster';

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  let cluster: TestCluster;
  if (config.databaseUrl) {
    cluster = { adminUrl: withDatabase(config.databaseUrl, 'postgres') };
  } else {
    const server = await startEmbedded({ dataDir: await makeTemporaryDataDir(), persistent: false, fast: true });
    cluster = { adminUrl: server.adminUrl, stop: () => server.stop() };
  }
  const template = `nora_test_${process.pid}_template`;
  await createDatabase(cluster.adminUrl, template);
  await migrateDatabase({ databaseUrl: withDatabase(cluster.adminUrl, template), apiRole: config.apiRole });
  // `npm run mutate:sql` runs the suite against a template with one defect planted.
  const defect = process.env[TEST_ENV.defect];
  if (defect) await plantDefect(withDatabase(cluster.adminUrl, template), defect);
  cluster.template = template;
  (globalThis as { __noraCluster?: TestCluster }).__noraCluster = cluster;
  process.env[TEST_ENV.adminUrl] = cluster.adminUrl;
  process.env[TEST_ENV.template] = template;
  process.env[TEST_ENV.apiRole] = config.apiRole;
}
