import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every export of functions/ and protocol/ is used by a module of the product or its tools (template.yaml's Handler
 * counts for each function's entry point), or only by tests and says why in its doc comment ("Exported for tests:
 * <why>"): a value a test asserts against, a test hook, a port a test builds. An export nothing uses is dead code or
 * a module-private name, and one only tests use without a reason is a test reaching past the module's behaviour.
 * scripts/test-only-exports.mjs finds the uses; run it by hand for the list with the tests that use each.
 */
const root = join(__dirname, '..', '..');
interface Row {
  file: string;
  name: string;
  users: string[];
  documented: boolean;
}
const { unused, computedReads } = JSON.parse(
  execFileSync(process.execPath, [join(root, 'scripts', 'test-only-exports.mjs'), '--json'], {
    cwd: root,
    encoding: 'utf8',
  }),
) as { unused: Row[]; computedReads: { name: string; by: string[] }[] };

it('finds the exports of functions/ and protocol/ that only tests use', () => {
  // The test hooks stay exported, each saying so: the check sees them.
  expect(unused.map((r) => `${r.file} ${r.name}`)).toContain(
    'functions/platform/settings.ts resetSettingsForTests',
  );
});

it('exports nothing that no module imports', () => {
  expect(unused.filter((r) => r.users.length === 0).map((r) => `${r.file} ${r.name}`)).toEqual([]);
});

it('says why of each export only tests import ("Exported for tests: <why>")', () => {
  expect(
    unused
      .filter((r) => r.users.length > 0 && !r.documented)
      .map((r) => `${r.file} ${r.name} (${r.users.join(', ')})`),
  ).toEqual([]);
});

it('counts a use no import shows only where the test still reads it', () => {
  for (const { name, by } of computedReads)
    for (const file of by)
      expect(readFileSync(join(root, file), 'utf8')).toMatch(new RegExp(`\\.${name}\\b`));
});
