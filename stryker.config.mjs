// StrykerJS for server/ (`npm run mutate -- <part>`, through test/mutation/stryker.ts, which names
// the files to mutate): not part of `npm test` or CI, a full run takes too long for every change.
import process from 'node:process';
import jestConfig from './jest.config.js';

const mostlyOutOfProcess = [
  'test/api/workers.test.ts',
  'test/api/shutdown.test.ts',
  'test/api/shared-limits.test.ts',
  'test/api/key-revocation.test.ts',
  'test/api/contract-types.test.ts',
  'test/mcp/stdio.test.ts',
  'test/mcp/race.test.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  coverageAnalysis: 'perTest',
  // Two cores: a test runner mostly waits for PostgreSQL and for its API's start-up, so three
  // (one of them the TypeScript checker until it has checked every mutant) keep both busy.
  concurrency: 3,
  timeoutMS: 60000,
  // The first run (every test, in one process, recording which tests reach which code) takes
  // several minutes on two cores.
  dryRunTimeoutMinutes: 30,
  // A "static" mutant is reached outside any test: in module-level code, and in what the test
  // files build in beforeAll (the app: its routes, middleware and settings). Stryker runs it
  // against all the related tests, which is slow but right. Ignoring them (ignoreStatic) also
  // runs the ones some test happens to reach again inside a test ("hybrid") against that test
  // alone: a route registered in every file's beforeAll, and in a few tests that build their own
  // app, was judged by those few and "survived" (stryker-js issue 4175), 45 of 75 such in
  // server/routes on 2026-11-26.
  ignoreStatic: false,
  jest: {
    projectType: 'custom',
    enableFindRelatedTests: true,
    config: {
      ...jestConfig,
      // The wrapper has already built the database the test files clone. Null, not undefined:
      // Stryker lays this over jest.config.js, and an undefined value would keep that one's.
      globalSetup: null,
      globalTeardown: null,
      // Stryker picks each run's test files with jest's --findRelatedTests, which follows imports
      // only through files jest knows: server/ as well as test/, or a route (imported by the app,
      // not by a test) has no related tests at all.
      roots: ['<rootDir>/test', '<rootDir>/server', '<rootDir>/config'],
      collectCoverage: false,
      coverageThreshold: undefined,
      // A part may name the tests that judge it (test/mutation/stryker.ts).
      testMatch: process.env.NORA_MUTATE_TESTS?.split(',') ?? [
        '**/test/api/**/*.test.ts',
        '**/test/mcp/**/*.test.ts',
        '**/test/webhooks/**/*.test.ts',
      ],
      // These run server/ mostly in child processes (or only type-check it), where no mutant is
      // switched on: they could kill little and cost minutes per run. The MCP race is left out
      // for its cost (test/mcp/race.test.ts says why). A part that names one of them by its
      // file name has it run all the same.
      testPathIgnorePatterns: [
        '/node_modules/',
        ...mostlyOutOfProcess
          .filter((file) => !process.env.NORA_MUTATE_TESTS?.split(',').some((glob) => glob.endsWith(file)))
          .map((file) => `/${file.replaceAll('.', '\\.')}$`),
      ],
    },
  },
  // Each part's results are kept in a tracked file of its own (test/mutation/stryker.ts): a later
  // run of that part only tests the mutants whose code or tests have changed.
  incremental: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['.data', 'coverage', 'reports'],
  // Not a dot folder: Express's sendFile refuses any path with one (GET /openapi.yaml would 404).
  tempDirName: 'stryker-tmp',
};
