// `npm run mutate -- <part> [stryker options]`: StrykerJS over one part of server/. Jest would run
// its global setup (a PostgreSQL and a freshly migrated template) for every mutant; here it runs
// once around the whole Stryker run, and the workers inherit the template through the environment.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';

interface Part {
  mutate: string;
  /** Test files that judge the part's mutants (stryker.config.mjs reads NORA_MUTATE_TESTS). */
  tests?: string;
  /** Further Stryker options for this part. */
  options?: string[];
}

// A run over all of server/ takes hours on two cores, so it goes a part at a time, each part's
// results kept in test/mutation/incremental/<part>.json for the next run of that part.
const parts: Record<string, Part> = {
  routes: { mutate: 'server/routes/**/*.ts' },
  queries: { mutate: 'server/queries/**/*.ts' },
  // The app builds the MCP catalog and mounts /mcp, so every HTTP test file imports server/mcp and
  // would run, for minutes, against each of its many mutants reached at start-up; the MCP tests are
  // the ones that assert what it does.
  mcp: { mutate: 'server/mcp/**/*.ts,!server/mcp/main.ts', tests: '**/test/mcp/**/*.test.ts' },
  webhooks: {
    mutate: 'server/webhooks/**/*.ts,server/worker/**/*.ts,!server/worker/main.ts',
    tests: '**/test/webhooks/**/*.test.ts,**/test/api/webhooks.test.ts',
  },
  // The error mapping on its own: most of its mutants are in functions every API test reaches,
  // so each runs only against the tests that reached it, and the part fits in one sitting.
  errors: { mutate: 'server/errors.ts' },
  // The rest of the files directly in server/, a few at a time so that each part fits in one
  // sitting: every HTTP test starts the app, so each of their start-up mutants runs all of them.
  // Every HTTP test passes through authentication; these are the ones that assert what it does
  // (key-revocation with a child process, for the listener this process runs).
  auth: {
    mutate: 'server/auth.ts,server/key-events.ts',
    tests: '**/test/api/auth.test.ts,**/test/api/key-events.test.ts,**/test/api/tenancy.test.ts,**/test/api/rate-limit.test.ts,**/test/api/key-revocation.test.ts',
  },
  // The pool and its helpers, judged by the tests that assert them (and the history's actor).
  db: { mutate: 'server/db.ts', tests: '**/test/api/database.test.ts,**/test/api/operations.test.ts,**/test/api/status.test.ts' },
  // Most of these mutants are reached while the app is built. A test file builds it in beforeAll,
  // and some tests build one of their own too: per-test coverage then judges such a mutant by
  // those few tests alone (stryker-js issue 4175; 58 % on 2026-12-05, most survivors so), hence
  // every mutant against every judging file: the ones that assert the app's wiring, start-up and
  // validation.
  app: {
    options: ['--coverageAnalysis', 'all'],
    mutate: 'server/app.ts,server/server.ts,server/openapi.ts,server/formats.ts',
    tests: [
      'operations',
      'security-headers',
      'cors',
      'nul-byte',
      'bad-input',
      'errors',
      'route-compilation',
      'formats',
      'clients',
      'rpc',
      'auth',
    ]
      .map((file) => `**/test/api/${file}.test.ts`)
      .join(','),
  },
  // Logging and rate limiting are what their own tests assert; every other HTTP test merely passes
  // through them, and a start-up mutant of the limiter would run all of those for nothing.
  ops: {
    mutate: 'server/logger.ts,server/rate-limit.ts',
    tests: '**/test/api/logger.test.ts,**/test/api/rate-limit.test.ts,**/test/api/operations.test.ts',
  },
};

// Stryker's incremental mode reuses a survivor while the tests that ran against it are unchanged,
// judged by each test's own body: a test whose helper now asserts more still counts as the same
// test, and a static mutant keeps its survival for ever. `--retest-survivors` drops the part's
// survivors (and mutants no test reached) from its file, so this run tests them again.
const RETEST = '--retest-survivors';

function forgetSurvivors(file: string): void {
  if (!existsSync(file)) return;
  const results = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, { mutants: Array<{ status: string }> }> };
  for (const entry of Object.values(results.files)) {
    entry.mutants = entry.mutants.filter((mutant) => mutant.status !== 'Survived' && mutant.status !== 'NoCoverage');
  }
  writeFileSync(file, JSON.stringify(results, null, 2));
}

// Ctrl-C reaches Stryker too, which stops; this process stays to drop the database.
process.on('SIGINT', () => undefined);

async function main(): Promise<number> {
  const [name, ...options] = process.argv.slice(2);
  const part = parts[name ?? ''];
  if (!part) {
    process.stderr.write(`usage: npm run mutate -- <${Object.keys(parts).join('|')}> [stryker options]\n`);
    return 2;
  }
  const incremental = `test/mutation/incremental/${name}.json`;
  if (options.includes(RETEST)) forgetSurvivors(incremental);
  await globalSetup();
  try {
    // Not spawnSync: the embedded PostgreSQL writes its log to a pipe this process reads, and a
    // blocked event loop lets that pipe fill until every backend hangs in its next log write.
    const run = spawn(
      'npx',
      ['stryker', 'run', '--mutate', part.mutate, '--incrementalFile', incremental, ...(part.options ?? []), ...options.filter((option) => option !== RETEST)],
      { stdio: 'inherit', env: { ...process.env, ...(part.tests ? { NORA_MUTATE_TESTS: part.tests } : {}) } },
    );
    const [code] = (await once(run, 'exit')) as [number | null];
    return code ?? 1;
  } finally {
    await globalTeardown();
  }
}

main().then((status) => process.exit(status));
