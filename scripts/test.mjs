#!/usr/bin/env node
// npm test [-- jest options for both runs]: the suite as its two runs, everything but the browser tests
// (`npm run test:main`), then the browser tests (`npm run test:browser`: two files at a time, jest.config.js says why
// they run apart). Each is timed, and the last lines say how long each run took and how it ended, so the phase that
// makes a run slow shows without reading jest's output. A failed main run stops there, as `a && b` would, and the
// script exits with the failed run's status.
import { spawnSync } from 'node:child_process';

const PHASES = ['test:main', 'test:browser'];
const extra = process.argv.slice(2);
const lines = [];
let status = 0;
for (const phase of PHASES) {
  const started = process.hrtime.bigint();
  const run = spawnSync('npm', ['run', phase, ...(extra.length > 0 ? ['--', ...extra] : [])], {
    stdio: 'inherit',
  });
  const seconds = Math.round(Number(process.hrtime.bigint() - started) / 1e9);
  status = run.status ?? 1;
  lines.push(`  ${phase}: ${seconds} s${status === 0 ? '' : ` (exit ${status})`}`);
  if (status !== 0) break;
}
console.log(`\n== npm test, by phase:\n${lines.join('\n')}`);
process.exit(status);
