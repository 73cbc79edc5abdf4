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
    // @middy/core is published as an ES module only; Jest's module system loads CommonJS, so it is compiled too.
    '/node_modules/@middy/.+\\.js$': [
      'ts-jest',
      { tsconfig: { module: 'commonjs', allowJs: true, isolatedModules: true } },
    ],
  },
  // The client library from its sources, as tsconfig.json's `paths` say: the tests see the code as it is, and no
  // test reads client/dist/ while tests/client/package.test.ts's `npm pack` rewrites it in another worker. The
  // package test checks the built files themselves.
  moduleNameMapper: { '^@roomcast/client$': '<rootDir>/client/index.ts' },
  // Two workers on a two-core machine, where Jest's default (cores - 1) is one: most of a test file's time is spent
  // waiting (local cloud start-up, sockets, timeouts), so a second file runs in that time. `npx jest -w 1` runs
  // one file at a time. The fault, overload and capacity runs (package.json) keep to one worker: their figures are
  // for a local cloud that has the machine to itself.
  maxWorkers: 2,
  globalSetup: '<rootDir>/tests/setup/build.js',
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/tests/setup/polyfills.ts', '<rootDir>/tests/setup/env.ts'],
  testTimeout: 30000,
};
