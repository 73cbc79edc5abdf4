/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', moduleResolution: 'node', isolatedModules: true } },
    ],
  },
  globalSetup: '<rootDir>/tests/setup/build.js',
  setupFiles: ['<rootDir>/tests/setup/polyfills.ts', '<rootDir>/tests/setup/env.ts'],
  testTimeout: 30000,
};
