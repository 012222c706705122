/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/citus needs a Citus cluster: jest.citus.config.js (npm run test:citus).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/citus/'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  collectCoverage: true,
  collectCoverageFrom: ['config/**/*.ts', 'server/**/*.ts', '!server/main.ts', '!server/worker/main.ts'],
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { 'server/': { lines: 95 }, 'config/': { lines: 95 } },
};
