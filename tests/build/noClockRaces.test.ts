import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * No test races the wall clock: a test that compares a measured elapsed time with a bound passes on an idle machine
 * and fails on a loaded one (CI beside other work), whichever way the bound points. A rule about time is tested on
 * an injected or fake clock, or by waiting on an event with a generous overall timeout; speed belongs to
 * `npm run bench`.
 *
 * The heuristic, deliberately simple (a line-based scan of tests/**\/*.ts):
 * - a name is *measured* when it is assigned from, or has pushed into it, an expression with `Date.now() -` or
 *   `performance.now() -` (`const ms = Date.now() - started`, `times.push(performance.now() - t0)`);
 * - a line is flagged when an `expect(...)` whose subject (its argument) holds `Date.now() -`, `performance.now() -` or a measured
 *   name is followed, on that line or the next two, by `toBeLessThan*` or `toBeGreaterThan*`;
 * - a line is flagged when it takes the wall clock modulo something (`Date.now() % windowMs`): a test that finds where
 *   it stands in the product's fixed windows of the wall clock (to wait for the next one's start, or to allow for one
 *   ending) races that window's end on a loaded machine; the rule runs on the local cloud's `lambdaTestClock`.
 * - a line is flagged when it sets a wait's wall-clock deadline of under a minute (`const deadline = Date.now() + 500`,
 *   compared with `Date.now()` further on): a loop that gives up after a short real time fails on a loaded machine; a
 *   wait's bound is a hang detector (WAIT_FLOOR_MS or more), or the rule runs on a clock the test holds.
 * - a line is flagged when it gives a wait a literal `timeout:` of under a minute (a page's `waitFor({ timeout: 3000 })`,
 *   a child process's `spawnSync(…, { timeout: 20_000 })`): the same race as a short deadline. A probe inside a wait
 *   that has its own hang-detector bound names its constant instead (browserStage's hasText).
 * tests/bench/ is not scanned: its tests run the benchmark's model on a simulated clock (tools/bench), where
 * durations are computed, not measured.
 */
const root = join(__dirname, '..', '..');
const tests = join(root, 'tests');

/**
 * Known offenders outside this check's owners, being rewritten in parallel by others (tests/deliver,
 * tests/security/fairShare, tests/core/departure.e2e) or not yet owned (tests/typing): the lines of these files are
 * not flagged. Empty this list as they land; a listed file that no longer offends fails the check, so the list
 * cannot go stale.
 */
const KNOWN: string[] = [];

const NOW_DIFF = /\b(?:Date|performance)\.now\(\)\s*-/;
const COMPARISON = /\.(?:not\.)?toBe(?:Less|Greater)Than(?:OrEqual)?\(/;
const NOW_MODULO = /\b(?:Date|performance)\.now\(\)\s*%/;
/** `const deadline = Date.now() + 500`: a name set to a wall-clock time a literal number of ms from now. */
const NOW_PLUS =
  /\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:Date|performance)\.now\(\)\s*\+\s*([\d_]+)\b/;
/** `{ timeout: 3000 }`: a wait's own bound, a literal number of ms. */
const LITERAL_TIMEOUT = /\btimeout:\s*([\d_]+)\b/;
/** The shortest real-time bound a wait may have: a hang detector, not a timer the machine's speed can beat. */
const WAIT_FLOOR_MS = 60_000;

/** True when `name` is compared with the wall clock in `text`: a deadline a wait checks. */
function isWaitDeadline(name: string, text: string): boolean {
  const now = String.raw`(?:Date|performance)\.now\(\)`;
  return new RegExp(String.raw`${now}\s*[<>]=?\s*${name}\b|\b${name}\s*[<>]=?\s*${now}`).test(text);
}

/** The `file:line` of each measured elapsed time asserted against a bound in `text`. */
function clockRaces(file: string, text: string): string[] {
  const lines = text.split('\n');
  const measured = new Set<string>();
  for (const line of lines) {
    if (!NOW_DIFF.test(line)) continue;
    const assigned = /^\s*(?:const |let |var )?([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=(?![=>])/.exec(line)?.[1];
    if (assigned) measured.add(assigned);
    for (const [, name] of line.matchAll(/([A-Za-z_$][\w$]*)\.push\(/g)) if (name) measured.add(name);
  }
  const measuredName = measured.size > 0 ? new RegExp(`\\b(?:${[...measured].join('|')})\\b`) : undefined;
  const found: string[] = [];
  lines.forEach((line, i) => {
    const deadline = NOW_PLUS.exec(line);
    if (
      deadline?.[1] &&
      Number(deadline[2]?.replace(/_/g, '')) < WAIT_FLOOR_MS &&
      isWaitDeadline(deadline[1], text)
    ) {
      found.push(`${file}:${i + 1}`);
      return;
    }
    const timeout = LITERAL_TIMEOUT.exec(line)?.[1];
    if (timeout !== undefined && Number(timeout.replace(/_/g, '')) < WAIT_FLOOR_MS) {
      found.push(`${file}:${i + 1}`);
      return;
    }
    if (NOW_MODULO.test(line)) {
      found.push(`${file}:${i + 1}`);
      return;
    }
    const at = line.indexOf('expect(');
    if (at < 0) return;
    const rest = lines
      .slice(i, i + 3)
      .join('\n')
      .slice(at + 'expect('.length);
    const subject = rest.slice(0, closingParen(rest));
    if (!(NOW_DIFF.test(subject) || measuredName?.test(subject))) return;
    if (COMPARISON.test(rest.slice(subject.length))) found.push(`${file}:${i + 1}`);
  });
  return found;
}

/** The index of the parenthesis that closes an expression opened just before `text`. */
function closingParen(text: string): number {
  let depth = 1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === join(tests, 'bench') ? [] : testFiles(path);
    // This file's own samples offend on purpose.
    return entry.name.endsWith('.ts') && path !== __filename ? [path] : [];
  });
}

it('finds the measured elapsed times a test compares with a bound, the wall clock taken modulo a window, and short wait deadlines and timeouts', () => {
  const sample = [
    'const started = Date.now();',
    'await work();',
    'expect(Date.now() - started).toBeLessThan(4000);',
    'const tookMs = performance.now() - t0;',
    'expect(tookMs)',
    '  .toBeGreaterThanOrEqual(5);',
    'times.push(performance.now() - t0);',
    'expect(times[1]).toBeLessThan(9);',
    'expect(Date.now()).toBeGreaterThan(0);',
    'expect(count).toBeLessThan(3);',
    'expect(count).toBeLessThan(tookMs);',
    'expect(tookMs).toBe(5);',
    'const left = windowMs - (Date.now() % windowMs);',
    'const seconds = Math.floor(Date.now() / 1000);',
    'const deadline = Date.now() + 500;',
    'while (!done() && Date.now() < deadline) await tick();',
    'const until = Date.now() + 120_000;',
    'while (!done() && Date.now() < until) await tick();',
    'const startBy = Date.now() + 50;',
    'invoke(fn, event, startBy);',
    "await row.waitFor({ state: 'detached', timeout: 3000 });",
    'spawnSync(cli, [], { timeout: 120_000 });',
  ].join('\n');
  expect(clockRaces('sample.ts', sample)).toEqual([
    'sample.ts:3',
    'sample.ts:5',
    'sample.ts:8',
    'sample.ts:13',
    'sample.ts:15',
    'sample.ts:21',
  ]);
});

it('no test compares a measured wall-clock duration with a bound, or places itself in a window of the wall clock', () => {
  const found = testFiles(tests).flatMap((path) =>
    clockRaces(relative(root, path), readFileSync(path, 'utf8')),
  );
  const fileOf = (at: string) => at.slice(0, at.lastIndexOf(':'));
  const unlisted = found.filter((at) => !KNOWN.includes(fileOf(at)));
  const fixed = KNOWN.filter((file) => !found.some((at) => fileOf(at) === file));
  expect({ unlisted, fixed }).toEqual({ unlisted: [], fixed: [] });
});

/**
 * A test's own bound is a hang detector, as jest.config's `testTimeout` is: a literal `jest.setTimeout(N)` or a
 * per-test bound below it fails a test that a loaded machine only runs slower (a local cloud starting, frames waited
 * up to 90 s each), never one that is wrong.
 */
it('no test file or test sets its own bound below the suite-wide testTimeout', () => {
  const { testTimeout } = require(join(root, 'jest.config.js')) as { testTimeout: number };
  const bound = /(?:jest\.setTimeout\(|^\}, )([\d_]+)\)/;
  const short = testFiles(tests).flatMap((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const ms = bound.exec(line)?.[1];
        return ms !== undefined && Number(ms.replace(/_/g, '')) < testTimeout
          ? [`${relative(root, path)}:${i + 1}`]
          : [];
      }),
  );
  expect(short).toEqual([]);
});
