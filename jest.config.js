const { enableCompileCache } = require('node:module');
const { availableParallelism, tmpdir } = require('node:os');
const { join } = require('node:path');

// V8's compiled code for what Node's own module loader reads (Jest itself in each worker process, and in each test
// cloud its DynamoDB and Step Functions threads with dynalite, the state machine interpreter and the SDK) is kept on
// disk and reused (Node's compile cache, keyed by each file's contents), rather than compiled again by every worker
// and every cloud. Set here, before Jest starts its workers, which inherit the variable; the Lambda environments'
// threads turn it on themselves (tools/local/lambda/worker.ts). Node 22.1+.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');
enableCompileCache?.(process.env.NODE_COMPILE_CACHE);

/** @type {import('jest').Config} */
module.exports = {
  // Node's environment, and for the browser tests one Chromium per worker shared by its files
  // (tests/setup/browserEnvironment.ts says why).
  testEnvironment: '<rootDir>/tests/setup/browserEnvironment.ts',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // esbuild, file by file (tests/setup/transform.js says why): TypeScript, and @middy/core, which is published as an
  // ES module only while Jest's module system loads CommonJS.
  transform: {
    '^.+\\.ts$': '<rootDir>/tests/setup/transform.js',
    '/node_modules/@middy/.+\\.js$': '<rootDir>/tests/setup/transform.js',
  },
  // The client library from its sources, as tsconfig.json's `paths` say: the tests see the code as it is, and no
  // test reads client/dist/ while tests/client/package.test.ts's `npm pack` rewrites it in another worker. The
  // package test checks the built files themselves.
  moduleNameMapper: { '^@roomcast/client$': '<rootDir>/client/index.ts' },
  // One test file per core and one more: much of a file's time is spent waiting (local clouds starting, browsers,
  // frames on the wire, deadlines), and the extra file's work fills those waits, so the cores stay busy. No test
  // depends on the machine being otherwise idle.
  // `npm test` runs the browser tests in a run of their own, two files at a time (package.json `test:browser`), beside
  // this one (scripts/test.mjs): each browser file is a local cloud plus a Chromium, so one Jest run of both would
  // put up to three of them on two cores; the browser steps wait up to UI_TIMEOUT_MS (tests/helpers/browserStage.ts).
  maxWorkers: availableParallelism() + 1,
  globalSetup: '<rootDir>/tests/setup/build.js',
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  setupFiles: ['<rootDir>/tests/setup/polyfills.ts', '<rootDir>/tests/setup/env.ts'],
  // A test's own bound when its file sets none, and the least any file sets: a hang detector, never a speed check. A
  // local cloud's start or a SAM transform that takes 5 s alone took over 30 s at load 30 (two CI runs and four
  // engineers' tests on two cores); a test that must fail fails on its own assertion first.
  testTimeout: 240_000,
};
