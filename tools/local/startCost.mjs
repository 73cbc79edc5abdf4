// Runs tools/local/startCost.ts in RUNS fresh processes (default 5) and prints each step's median:
// `node scripts/build.mjs --quiet && node tools/local/startCost.mjs [runs]` (dist/ must be built).
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

const runs = Number(process.argv[2] ?? 5);
// Beside the build, where the bundle's packages resolve from the repository's node_modules.
const out = join(import.meta.dirname, '..', '..', 'dist', 'startCost', 'startCost.js');
await build({
  entryPoints: [join(import.meta.dirname, 'startCost.ts')],
  bundle: true,
  platform: 'node',
  packages: 'external',
  outfile: out,
  logLevel: 'error',
});
// Node's compile cache on, as jest.config.js turns it on for the tests' processes and their threads.
const env = {
  ...process.env,
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache'),
};
const results = [];
for (let i = 0; i < runs; i++)
  results.push(
    JSON.parse(
      execFileSync(process.execPath, [out, ...process.argv.slice(3)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        env,
      }),
    ),
  );
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]);
};
const rows = { readyMs: 0, cpuReadyMs: 0, closedMs: 0, cpuClosedMs: 0 };
for (const key of Object.keys(rows)) rows[key] = median(results.map((r) => r[key]));
const steps = {};
for (const name of Object.keys(results[0].steps).sort((a, b) => results[0].steps[a] - results[0].steps[b]))
  steps[name] = median(results.map((r) => r.steps[name] ?? 0));
console.log(JSON.stringify({ runs, ...rows, stepsReadyAtMs: steps }, null, 1));
