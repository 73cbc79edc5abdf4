#!/usr/bin/env node
// npm run test:soak [-- [--hogs N] [jest patterns and options...]]
// Runs the main suite (`npm run test:main`, or the test files the patterns match) with one busy process per core
// beside it, as CI runs beside other work: a test that races the wall clock fails here rather than now and then on
// CI. The busy processes are killed however the run ends (success, failure, Ctrl-C, an error of this script). It
// prints the failed tests and the run's time, and exits with jest's status.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const hogsAt = args.indexOf('--hogs');
const hogCount = hogsAt >= 0 ? Number(args[hogsAt + 1]) : availableParallelism();
if (!(Number.isInteger(hogCount) && hogCount >= 0)) {
  console.error(`--hogs: expected a whole number of busy processes, got ${args[hogsAt + 1]}`);
  process.exit(2);
}
const jestArgs = hogsAt >= 0 ? [...args.slice(0, hogsAt), ...args.slice(hogsAt + 2)] : args;

const hogs = [];
let jest;
function killHogs() {
  for (const hog of hogs.splice(0)) if (hog.exitCode === null) hog.kill('SIGKILL');
}
process.on('exit', killHogs);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    killHogs();
    // The suite runs in a process group of its own (npm, its shell, jest and jest's workers): all of it stops.
    if (jest?.exitCode === null) process.kill(-jest.pid, signal);
    process.exit(130);
  });
process.on('uncaughtException', (error) => {
  killHogs();
  console.error(error);
  process.exit(1);
});

// Each busy process spins on one core; it also stops itself when this script is gone (its stdin closes), should
// this script be killed with SIGKILL, which no handler sees.
const BUSY =
  "process.stdin.on('close', () => process.exit(0)); process.stdin.resume(); setImmediate(function spin() { const until = Date.now() + 50; while (Date.now() < until) {} setImmediate(spin); });";
for (let i = 0; i < hogCount; i++)
  hogs.push(spawn(process.execPath, ['-e', BUSY], { stdio: ['pipe', 'ignore', 'inherit'] }));

const out = mkdtempSync(join(tmpdir(), 'roomcast-soak-'));
const report = join(out, 'jest.json');
const started = Date.now();
console.log(
  `soak: ${hogCount} busy process${hogCount === 1 ? '' : 'es'} beside npm run test:main ${jestArgs.join(' ')}`,
);
jest = spawn('npm', ['run', 'test:main', '--', '--json', `--outputFile=${report}`, ...jestArgs], {
  stdio: 'inherit',
  detached: true,
});
const status = await new Promise((resolve) =>
  jest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))),
);
killHogs();

const seconds = Math.round((Date.now() - started) / 1000);
let failures = [];
let summary = 'no jest report (the run ended before writing it)';
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  summary = `${result.numPassedTests} passed, ${result.numFailedTests} failed, ${result.numTotalTests} tests in ${result.numTotalTestSuites} files`;
  failures = result.testResults.flatMap((file) => {
    const name = relative(process.cwd(), file.name);
    const tests = file.assertionResults
      .filter((test) => test.status === 'failed')
      .map((test) => `${name}: ${test.fullName}`);
    // A file that failed outside any test (it did not compile, its set-up threw) names itself.
    return tests.length === 0 && file.status === 'failed'
      ? [`${name}: ${file.message.split('\n')[0]}`]
      : tests;
  });
} catch {}
rmSync(out, { recursive: true, force: true });
console.log(`\nsoak: ${summary}; ${seconds} s beside ${hogCount} busy process${hogCount === 1 ? '' : 'es'}`);
for (const failure of failures) console.log(`  failed: ${failure}`);
process.exit(status);
