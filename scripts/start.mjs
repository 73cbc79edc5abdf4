#!/usr/bin/env node
// npm start: builds everything (scripts/build.mjs), then runs the local cloud with the options given, telling it
// how long the build took (ROOMCAST_BUILD_MS) so that its banner shows both times, not only the cloud's start.
//   npm start -- [local cloud options]      (npm start -- --help lists them, building nothing)
// ROOMCAST_DIST_BUILT=1 skips the build, as it skips Jest's global set-up (tests/setup/build.js): it says dist/ was
// just built from these sources (by .ci/run or by that set-up), so a test that starts the cloud through this script
// does not bundle every function again; the banner then gives no build time.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const started = performance.now();
const args = process.argv.slice(2);
// The build time is this run's own, never one inherited from a shell that ran npm start before.
const { ROOMCAST_BUILD_MS: _inherited, ...env } = process.env;
if (args.includes('--help') || args.includes('-h')) {
  // The options are printed from their own module (tools/local/help.mjs, the text the cloud's command line prints),
  // at once: nothing is built or loaded for them, neither the functions nor the cloud.
  const { HELP } = await import('../tools/local/help.mjs');
  // Read through `| head`: the reader closing the pipe is no error to print.
  process.stdout.on('error', (error) => process.exit(error.code === 'EPIPE' ? 0 : 1));
  // Exits once the text is written (a pipe's writes may be asynchronous).
  process.stdout.write(HELP, () => process.exit(0));
  await new Promise(() => {});
}
if (process.env.ROOMCAST_DIST_BUILT !== '1') {
  try {
    // Loaded only to build: esbuild and the template's parser cost a second of CPU that a skipped build does not need.
    const { buildAll } = await import('./build.mjs');
    await buildAll();
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
  env.ROOMCAST_BUILD_MS = String(Math.round(performance.now() - started));
}
// With an IPC channel: the cloud stops itself when the channel closes (tools/local/cli.ts), so it ends with this
// process however this one ends, a SIGKILL included.
const cloud = spawn(
  process.execPath,
  ['--enable-source-maps', join(root, 'dist', 'local', 'cli.js'), ...args],
  {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env,
  },
);
// Ctrl-C reaches the whole terminal group, the cloud included, which stops itself (a second Ctrl-C ends it at
// once): this process only waits for it. A SIGTERM sent to this process alone is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => cloud.kill('SIGTERM'));
cloud.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
// `kill <npm's PID>` ends npm and the shell it ran this in, never this process: orphaned (another parent), it stops
// the cloud as a SIGTERM would.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) cloud.kill('SIGTERM');
}, 500).unref();
