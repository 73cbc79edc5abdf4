#!/usr/bin/env node
// What a new Lambda sandbox pays for each function's package as `sam build` makes it: the package's size, the time
// to load its bundle, and the time of the first error stack (its construction and first `.stack` read, when Node
// formats it: with --enable-source-maps that is when it parses the bundle's whole source map).
//   node scripts/first-error-stack.mjs [--runs N] [LogicalId ...]
// Each function is built through the Makefile as `sam build` runs it (ARTIFACTS_DIR a fresh folder outside the
// project), then loaded by a new Node process from that folder with the NODE_OPTIONS of template.yaml's Globals:
// the package and the options the deployed function runs with. Figures are medians over N processes (default 5).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionBuilds, root, shippedNodeOptions } from './build.mjs';

const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const only = args.filter((arg, i) => !arg.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));

// Runs in the new process: require the bundle, then call its handler with an event whose first use makes an error
// there and reads its stack at once, before anything else can: a stack through the bundle's own frames, formatted
// for the first time in that process (a handler that fails before it uses its event: its error's stack).
const probe = `const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const m = require(process.argv[1]);
const load = performance.now() - t0;
let first;
// Every operation on the event (a property read, \`in\`, a key listing) traps; the first one throws.
const event = new Proxy({}, new Proxy({}, { get: (_, trap) => (...args) => {
  if (first) return Reflect[trap](...args);
  const error = new Error('first');
  const t1 = performance.now();
  const stack = error.stack;
  first = { stack: performance.now() - t1, mapped: /\\.ts:\\d+/.test(stack) };
  throw error;
} }));
// A handler that fails before it reads its event: its own error's stack, read first here.
const firstOf = (error) => {
  const t1 = performance.now();
  const stack = String(error?.stack);
  return { stack: performance.now() - t1, mapped: /\\.ts:\\d+/.test(stack) };
};
const done = (result) => {
  process.stdout.write(JSON.stringify({ load, ...(first ?? firstOf(result)) }));
  process.exit(0);
};
setTimeout(done, 5000).unref();
Promise.resolve().then(() => m.handler(event)).then(done, done);`;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const nodeOptions = shippedNodeOptions();
const artifacts = mkdtempSync(join(tmpdir(), 'roomcast-first-stack-'));
const rows = [];
try {
  for (const { logicalId } of functionBuilds()) {
    if (only.length > 0 && !only.includes(logicalId)) continue;
    const outdir = join(artifacts, logicalId);
    execFileSync('make', ['-s', '-f', 'Makefile', `build-${logicalId}`], {
      cwd: root,
      env: { ...process.env, ARTIFACTS_DIR: outdir },
    });
    const files = readdirSync(outdir);
    const bytes = files.reduce((sum, file) => sum + statSync(join(outdir, file)).size, 0);
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, ['-e', probe, join(outdir, 'index.js')], {
        cwd: outdir,
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_NAMESPACE: 'roomcast',
          NODE_OPTIONS: nodeOptions,
        },
      });
      samples.push(JSON.parse(out.toString()));
    }
    rows.push({
      function: logicalId,
      package: files.sort().join(' + '),
      bundleKB: Math.round(statSync(join(outdir, 'index.js')).size / 1024),
      packageKB: Math.round(bytes / 1024),
      loadMs: Number(median(samples.map((s) => s.load)).toFixed(1)),
      firstStackMs: Number(median(samples.map((s) => s.stack)).toFixed(1)),
      // Whether that stack named the TypeScript sources (a source map was read) or the bundle's minified lines.
      stackNames: samples[0].mapped ? 'sources (.ts)' : 'bundle (.js)',
    });
  }
} finally {
  rmSync(artifacts, { recursive: true, force: true });
}
console.log(
  `NODE_OPTIONS=${JSON.stringify(nodeOptions)} (template.yaml Globals); ${runs} runs each, medians`,
);
console.table(rows);
