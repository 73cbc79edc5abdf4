// Jest's global set-up: build dist/ (the functions' bundles, the local cloud, the client) from the current sources
// before any test runs, so a single-file run (`npx jest tests/messages/chat.test.ts`) tests the code as it is now, not
// the last build. esbuild rebuilds everything in seconds; a failed build stops the run with the compiler's message.
// ROOMCAST_DIST_BUILT=1 skips it: .ci/run builds once before its five jest runs and changes no source between them,
// so each of those builds would redo the same work (seconds each on a quiet machine, minutes at load 20).
// scripts/start.mjs honours it too, so a test that starts the cloud as `npm start` does not build again
// (tests/scripts/banner.test.ts; its one `npm start` from scratch unsets it).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildBeforeTests() {
  if (process.env.ROOMCAST_DIST_BUILT === '1') return;
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs'), '--quiet'], {
    stdio: 'inherit',
  });
};
