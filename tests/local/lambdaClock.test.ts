import { installSandboxClock, LambdaTestClock } from '../../tools/local/lambda/clock';

/**
 * The functions' test clock (LocalCloudOptions.lambdaTestClock): a sandbox's `Date` reads the clock the test sets
 * and moves, and nothing else of it changes. The sandbox installs it in its own thread; here it is installed in this
 * file's global and put back after each test. The end-to-end rules on it: tests/security/caps.test.ts (strike
 * windows) and tests/security/guessing.test.ts (a frame window and guesses that never come back mid-file).
 */
const RealDate = Date;
afterEach(() => {
  globalThis.Date = RealDate;
});

const START = Date.parse('2001-03-01T12:00:00.000Z');

it('makes Date.now(), new Date() and Date() read the clock, which stands still until it is moved', async () => {
  const clock = new LambdaTestClock(START);
  const machineNow = installSandboxClock(clock.buffer);
  expect(Date.now()).toBe(START);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(Date.now()).toBe(START);
  expect(new Date().toISOString()).toBe('2001-03-01T12:00:00.000Z');
  expect(Date()).toBe(new RealDate(START).toString());
  clock.advance(60_000);
  expect(new Date().toISOString()).toBe('2001-03-01T12:01:00.000Z');
  clock.set(START + 5);
  expect(Date.now()).toBe(START + 5);
  // The machine's clock stays at hand for what the sandbox itself times (an invocation's deadline).
  expect(machineNow()).toBeGreaterThan(START + 60_000);
});

it('keeps the rest of Date: a given time, parsing, UTC, instanceof', () => {
  installSandboxClock(new LambdaTestClock(START).buffer);
  expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
  expect(new Date('2026-01-02T03:04:05Z').getTime()).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
  expect(Date.parse('2026-01-02T03:04:05Z')).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
  expect(new Date(2026, 0, 2).getFullYear()).toBe(2026);
  expect(new Date()).toBeInstanceOf(Date);
  expect(new Date()).toBeInstanceOf(RealDate);
});

it('refuses a time that is not whole milliseconds, and a move backwards', () => {
  const clock = new LambdaTestClock(START);
  expect(() => clock.set(1.5)).toThrow('whole milliseconds');
  expect(() => clock.advance(-1)).toThrow('only moves forward');
  expect(clock.now()).toBe(START);
});
