import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchFolder } from '../helpers/scratch';

/**
 * `npm test` (scripts/test.mjs) runs the main suite and the browser tests at once, prints the browser run's output
 * whole after it ends, and ends with one line a run saying how long it took and how it ended; a failed run stops the
 * other and the script exits with its status. Run here with a stand-in `npm` first on PATH that records each run it
 * is asked for and ends as told.
 */
const root = join(__dirname, '..', '..');
const bin = scratchFolder('npm-test-phases-');

/**
 * Runs scripts/test.mjs with the stand-in npm: the main run ends at once with `mainExit`, the browser run after
 * `browserSeconds` (its lines before and after the wait, so its output is seen whole).
 */
function npmTest(mainExit: number, args: string[] = [], browserSeconds = 0) {
  const npm = join(bin.path, 'npm');
  writeFileSync(
    npm,
    `#!/bin/sh\necho "asked: $*"\n[ "$2" = "test:main" ] && exit ${mainExit}\n` +
      `echo "browser started"\nsleep ${browserSeconds}\necho "browser ended"\nexit 0\n`,
  );
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

it('runs the main suite and the browser tests, prints the browser output whole, and says how long each took', async () => {
  const { code, stdout } = await npmTest(0, ['--ci']);
  expect(code).toBe(0);
  expect(stdout).toContain('asked: run test:main -- --ci');
  expect(stdout).toContain(
    "== test:browser's output:\nasked: run test:browser -- --ci\nbrowser started\nbrowser ended\n",
  );
  expect(stdout).toMatch(
    /== npm test, by phase \(the two runs at once\):\n {2}test:main: \d+ s\n {2}test:browser: \d+ s\n/,
  );
});

it('stops the browser run when the main run fails, with the main run’s status, and says which run failed', async () => {
  // The browser run would take a minute: the script ends long before, so it was stopped, not waited for.
  const { code, stdout } = await npmTest(3, [], 60);
  expect(code).toBe(3);
  expect(stdout).toMatch(/ {2}test:main: \d+ s \(exit 3\)\n/);
  expect(stdout).toMatch(/ {2}test:browser: \d+ s \(stopped: the other run failed\)\n/);
  expect(stdout).not.toContain('browser ended');
});
