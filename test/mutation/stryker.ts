// `npm run mutate`: StrykerJS over server/. Jest would run its global setup (a PostgreSQL and a
// freshly migrated template) for every mutant; here it runs once around the whole Stryker run,
// and the workers inherit the template through the environment.
import { spawnSync } from 'node:child_process';
import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';

// Ctrl-C reaches Stryker too, which stops; this process stays to drop the database.
process.on('SIGINT', () => undefined);

async function main(): Promise<number> {
  await globalSetup();
  try {
    const run = spawnSync('npx', ['stryker', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
    return run.status ?? 1;
  } finally {
    await globalTeardown();
  }
}

main().then((status) => process.exit(status));
