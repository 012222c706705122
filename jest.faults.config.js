/** `npm run test:faults`: fault tests that stop PostgreSQL and kill the API mid-load. Each file
 *  starts its own embedded PostgreSQL and API process, so there is no shared global setup.
 *  @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault.ts'],
  testTimeout: 180000,
  maxWorkers: 1,
};
