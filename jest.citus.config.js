/** `npm run test:citus`, the distributed suite: the same SQL and HTTP test files as `npm test`,
 *  against databases distributed on a Citus cluster (NORA_TEST_TARGET=citus, DATABASE_URL at its
 *  coordinator's postgres database, as `npm run citus:local` prepares), plus what only a cluster
 *  can show (test/citus). What does not hold on Citus is listed in README (Citus).
 *  @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/citus/**/*.test.ts',
    '<rootDir>/test/sql/**/*.test.ts',
    '<rootDir>/test/api/{reservations,tenancy,concurrency,rpc}.test.ts',
  ],
  // The tests that do not hold on Citus, skipped loudly, with their reasons: test/citus/exclusions.ts.
  setupFilesAfterEnv: ['<rootDir>/test/citus/exclude.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 120000,
  // One file at a time: the three nodes already share the two cores, and two racing files side by
  // side took 4 to 5 times as long each (the availability property test 301 s of its 360), for
  // the same wall time as one after the other (404 s against 414 s).
  maxWorkers: 1,
};
