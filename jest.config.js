/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  // Snapshots live in the top-level __snapshots__/ folder, mirroring test/.
  snapshotResolver: '<rootDir>/test/snapshot-resolver.js',
  // The slowest suites first, also in a fresh clone (no cached durations): see the file.
  testSequencer: '<rootDir>/test/sequencer.js',
  testTimeout: 60000,
  // Three workers on this 2-core machine: jest's default (cores - 1) would run every suite one after another,
  // and the real-program suites (PostgreSQL, nginx, kubectl, child synths) leave a core idle while they wait.
  maxWorkers: 3,
};
