#!/usr/bin/env node
// npm test [-- jest options for both runs]: the suite as its two runs at once, everything but the browser tests
// (`npm run test:main`) and the browser tests (`npm run test:browser`: two files at a time, jest.config.js says why
// they run apart). Each run alone leaves a fifth to a third of two cores idle (its files wait on local clouds,
// frames and pages), and side by side they fill those waits (docs/MEASUREMENTS.md, "CI"). The main run prints as it
// goes; the browser run's output is kept and printed whole when it ends, so the two never interleave. Each is timed,
// and the last lines say how long each run took and how it ended, so the run that makes `npm test` slow shows without
// reading jest's output. A run that fails stops the other (its process group), and the script exits with the first
// failed run's status.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const extra = process.argv.slice(2);
const scratch = mkdtempSync(join(tmpdir(), 'roomcast-npm-test-'));

/** Starts `npm run <phase>` in a process group of its own; `kept` sends its output to a file instead of ours. */
function start(phase, kept) {
  const args = ['run', phase, ...(extra.length > 0 ? ['--', ...extra] : [])];
  const log = kept ? join(scratch, `${phase.replace(':', '-')}.log`) : undefined;
  const out = log ? createWriteStream(log) : undefined;
  const child = spawn('npm', args, {
    detached: true,
    stdio: ['ignore', out ? 'pipe' : 'inherit', out ? 'pipe' : 'inherit'],
  });
  if (out) {
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
  }
  const started = process.hrtime.bigint();
  const ended = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const result = { phase, log, status: code ?? (signal ? 1 : 0), seconds: elapsed(started) };
      if (out) out.end(() => resolve(result));
      else resolve(result);
    });
  });
  return { phase, child, ended };
}

const elapsed = (started) => Number(process.hrtime.bigint() - started) / 1e9;

function stop(run) {
  try {
    process.kill(-run.child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

const runs = [start('test:main', false), start('test:browser', true)];
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const run of runs) stop(run);
    process.exit(130);
  });
}

let failed;
const results = await Promise.all(
  runs.map(async (run) => {
    const result = await run.ended;
    if (result.status !== 0 && !failed) {
      failed = result;
      for (const other of runs) if (other !== run) stop(other);
    }
    if (result.log) {
      process.stdout.write(`\n== ${result.phase}'s output:\n${readFileSync(result.log, 'utf8')}`);
    }
    return result;
  }),
);
rmSync(scratch, { recursive: true, force: true });

const line = (r) =>
  `  ${r.phase}: ${Math.round(r.seconds)} s${
    r.status === 0 ? '' : r === failed ? ` (exit ${r.status})` : ' (stopped: the other run failed)'
  }`;
console.log(`\n== npm test, by phase (the two runs at once):\n${results.map(line).join('\n')}`);
process.exit(failed ? failed.status : 0);
