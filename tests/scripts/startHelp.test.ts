import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scratchFolder } from '../helpers/scratch';

/**
 * `npm start -- --help` prints the local cloud's options at once, building nothing: run in a copy of the repository
 * whose dist/ does not exist (its scripts/ copied, so that scripts/start.mjs and scripts/build.mjs take the copy as
 * their root; everything else linked), the usage is printed and the copy still has no dist/: no function bundle, no
 * local cloud, no web site was built for it. The cloud's own command line prints the same text.
 */
const root = join(__dirname, '..', '..');
const run = promisify(execFile);
const copy = scratchFolder('start-help-');

beforeAll(() => {
  for (const entry of readdirSync(root)) {
    if (entry === 'dist' || entry === 'scripts' || entry === '.git') continue;
    symlinkSync(join(root, entry), join(copy.path, entry));
  }
  cpSync(join(root, 'scripts'), join(copy.path, 'scripts'), { recursive: true });
});

it.each(['--help', '-h'])('npm start -- %s prints the usage and builds nothing', async (flag) => {
  // ROOMCAST_DIST_BUILT unset: a start that builds would build here, as on a fresh clone.
  const { ROOMCAST_DIST_BUILT: _built, ...env } = process.env;
  const { stdout, stderr } = await run(process.execPath, [join(copy.path, 'scripts', 'start.mjs'), flag], {
    cwd: copy.path,
    env,
  });
  expect(stdout).toMatch(/^roomcast local cloud: .*\n\nUsage: npm start -- \[options\]\n/);
  expect(stdout).toContain('  --http-port N ');
  expect(stdout).toContain('  -h, --help                  show this help\n');
  expect(stderr).toBe('');
  expect(existsSync(join(copy.path, 'dist'))).toBe(false);
});

it("prints what the cloud's command line prints for --help", async () => {
  const [fromStart, fromCloud] = await Promise.all([
    run(process.execPath, [join(root, 'scripts', 'start.mjs'), '--help'], { cwd: root }),
    // dist/ is built: Jest's global set-up (tests/setup/build.js) or .ci/run built it.
    run(process.execPath, [join(root, 'dist', 'local', 'cli.js'), '--help'], { cwd: root }),
  ]);
  expect(fromStart.stdout).toContain('Usage: npm start -- [options]');
  expect(fromStart.stdout).toBe(fromCloud.stdout);
});
