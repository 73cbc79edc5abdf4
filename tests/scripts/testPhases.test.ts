import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchFolder } from '../helpers/scratch';

/**
 * `npm test` (scripts/test.mjs) runs the main suite, then the browser tests, and ends with one line a run saying how
 * long it took and how it ended; a failed main run stops there with its status. Run here with a stand-in `npm` first
 * on PATH that records each run it is asked for and ends as told.
 */
const root = join(__dirname, '..', '..');
const bin = scratchFolder('npm-test-phases-');

/** Runs scripts/test.mjs with the stand-in npm; the main run ends with `mainExit`. */
function npmTest(mainExit: number, args: string[] = []) {
  const npm = join(bin.path, 'npm');
  writeFileSync(npm, `#!/bin/sh\necho "asked: $*"\n[ "$2" = "test:main" ] && exit ${mainExit}\nexit 0\n`);
  chmodSync(npm, 0o755);
  return new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'scripts', 'test.mjs'), ...args],
      { env: { ...process.env, PATH: `${bin.path}:${process.env.PATH}` } },
      (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
}

it('runs the main suite, then the browser tests, and says how long each took', async () => {
  const { code, stdout } = await npmTest(0, ['--ci']);
  expect(code).toBe(0);
  expect(stdout).toContain('asked: run test:main -- --ci');
  expect(stdout).toContain('asked: run test:browser -- --ci');
  expect(stdout.indexOf('test:main -- --ci')).toBeLessThan(stdout.indexOf('test:browser -- --ci'));
  expect(stdout).toMatch(/== npm test, by phase:\n {2}test:main: \d+ s\n {2}test:browser: \d+ s\n/);
});

it('stops after a failed main run, with its status, and says which run failed', async () => {
  const { code, stdout } = await npmTest(3);
  expect(code).toBe(3);
  expect(stdout).toContain('asked: run test:main');
  expect(stdout).not.toContain('test:browser');
  expect(stdout).toMatch(/ {2}test:main: \d+ s \(exit 3\)\n/);
});
