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
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/tests/setup/polyfills.ts', '<rootDir>/tests/setup/env.ts'],
  testTimeout: 30000,
};
