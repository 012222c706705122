import { dropDatabase } from '../../db/postgres';
import { dropCitusDatabase } from '../../db/citus';
import type { TestCluster } from './cluster';

export default async function globalTeardown(): Promise<void> {
  const cluster = (globalThis as { __noraCluster?: TestCluster }).__noraCluster;
  if (!cluster) return;
  if (cluster.template) await (cluster.citus ? dropCitusDatabase : dropDatabase)(cluster.adminUrl, cluster.template);
  await cluster.stop?.();
}
