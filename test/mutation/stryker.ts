// `npm run mutate`: StrykerJS over server/. Jest would run its global setup (a PostgreSQL and a
// freshly migrated template) for every mutant; here it runs once around the whole Stryker run,
// and the workers inherit the template through the environment.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';

// Ctrl-C reaches Stryker too, which stops; this process stays to drop the database.
process.on('SIGINT', () => undefined);

async function main(): Promise<number> {
  await globalSetup();
  try {
    // Not spawnSync: the embedded PostgreSQL writes its log to a pipe this process reads, and a
    // blocked event loop lets that pipe fill until every backend hangs in its next log write.
    const run = spawn('npx', ['stryker', 'run', ...process.argv.slice(2)], { stdio: 'inherit' });
    const [code] = (await once(run, 'exit')) as [number | null];
    return code ?? 1;
  } finally {
    await globalTeardown();
  }
}

main().then((status) => process.exit(status));
