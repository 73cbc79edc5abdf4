// Jest's global set-up: build dist/ (the functions' bundles, the local cloud, the client) from the current sources
// before any test runs, so a single-file run (`npx jest tests/e2e/chat.test.ts`) tests the code as it is now, not
// the last build. esbuild rebuilds everything in seconds; a failed build stops the run with the compiler's message.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildBeforeTests() {
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs'), '--quiet'], {
    stdio: 'inherit',
  });
};
