import { getPriority } from 'node:os';
import { canRaisePriority, pace, trySetPriority } from '../../local/priority';

/**
 * Whether the local cloud may let its fan-out yield: a thread that lowered its priority must be able to raise it
 * again, which Linux allows with CAP_SYS_NICE or an RLIMIT_NICE soft limit of 20 - niceness (setpriority(2)).
 */
const status = (capEff: string) => `Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\n`;
const limits = (soft: string) =>
  `Limit                     Soft Limit           Hard Limit           Units\nMax nice priority         ${soft}                    ${soft}                    \n`;

it('lets root (CAP_SYS_NICE) return a thread to nice 0', () => {
  expect(canRaisePriority(0, { status: status('000001fffeffffff'), limits: limits('0') })).toBe(true);
  // Only bit 23 matters: every other capability, but not that one.
  expect(canRaisePriority(0, { status: status('000001fffe7fffff'), limits: limits('0') })).toBe(false);
});

it('refuses a user with the default RLIMIT_NICE of 0, and follows a raised one', () => {
  expect(canRaisePriority(0, { status: status('0000000000000000'), limits: limits('0') })).toBe(false);
  expect(canRaisePriority(0, { status: status('0000000000000000'), limits: limits('20') })).toBe(true);
  expect(canRaisePriority(10, { status: status('0000000000000000'), limits: limits('10') })).toBe(true);
  expect(canRaisePriority(0, { status: status('0000000000000000'), limits: limits('10') })).toBe(false);
  expect(canRaisePriority(0, { status: status('0000000000000000'), limits: limits('unlimited') })).toBe(true);
});

it('answers no where /proc cannot be read', () => {
  expect(canRaisePriority(0, null)).toBe(false);
});

it('answers a refused priority instead of throwing, and leaves the thread as it was', () => {
  const before = getPriority();
  expect(trySetPriority(100)).toBe(false);
  expect(getPriority()).toBe(before);
  expect(trySetPriority(before)).toBe(process.platform === 'linux');
});

/** Rounds of about 1 ms of work the calling thread gets through in `ms`, each round ended by a turn of its loop. */
async function roundsIn(ms: number): Promise<number> {
  const end = Date.now() + ms;
  let rounds = 0;
  while (Date.now() < end) {
    const until = Date.now() + 1;
    while (Date.now() < until) {
      /* work */
    }
    rounds++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return rounds;
}

it('paces a busy thread to a share of its time, and lets it run freely again', async () => {
  const free = await roundsIn(500);
  pace(0.8);
  const paced = await roundsIn(500);
  pace(0);
  const again = await roundsIn(500);
  // Asleep 80% of each 25 ms cycle: about a fifth of the rounds (half is the bound, for a busy machine).
  expect(paced).toBeLessThan(free * 0.5);
  expect(again).toBeGreaterThan(paced * 1.5);
});
