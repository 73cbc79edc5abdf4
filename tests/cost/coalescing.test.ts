import { batchCapacity, coalesce } from '../../tools/cost/coalescing';
import { DEFAULT_ASSUMPTIONS, estimate, frameSizes, type Workload } from '../../tools/cost/model';

const base = {
  roomSize: 100,
  rooms: 1,
  messagesPerSecond: 5,
  cycleMs: 100,
  postingBudgetPerSecond: Number.POSITIVE_INFINITY,
  maxBatch: 80,
};

/** A deterministic pseudo-random stream (mulberry32), so the simulation is the same on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One room's fan-out, played out message by message: a message that finds no cycle running starts one at once;
 * messages arriving during a cycle go together in the next, which starts a window after the running one ends (the
 * messages of the window joining them).
 */
function simulate(
  ratePerSecond: number,
  cycleSeconds: number,
  messages: number,
  seed = 1,
  windowSeconds = 0,
) {
  const next = random(seed);
  let clock = 0;
  let busyUntil = -1;
  let pending = 0;
  let cycles = 0;
  let inWindow = false;
  const endCycles = (until: number) => {
    // Cycles chain while messages wait: each takes everything pending when the window after the previous one ends.
    while (busyUntil >= 0 && busyUntil <= until) {
      if (inWindow) {
        inWindow = false;
        pending = 0;
        cycles++;
        busyUntil += cycleSeconds;
      } else if (pending > 0) {
        inWindow = true;
        busyUntil += windowSeconds;
      } else busyUntil = -1;
    }
  };
  for (let i = 0; i < messages; i++) {
    clock += -Math.log(1 - next()) / ratePerSecond;
    endCycles(clock);
    if (busyUntil < 0) {
      cycles++;
      busyUntil = clock + cycleSeconds;
    } else pending++;
  }
  endCycles(Number.POSITIVE_INFINITY);
  return { messagesPerPost: messages / cycles };
}

describe('coalescing: posts per message from the rate and the cycle', () => {
  test('a quiet room posts once per member and message and adds no wait', () => {
    const quiet = coalesce({ ...base, messagesPerSecond: 0.001 });
    expect(quiet.messagesPerPost).toBeCloseTo(1, 6);
    expect(quiet.postsPerMessage).toBeCloseTo(100, 3);
    expect(quiet.addedWaitMeanMs).toBeLessThan(0.01);
  });

  test('a busy room carries r·T + e^(-rT) messages per post: 20/s with 100 ms cycles is 2.135', () => {
    const busy = coalesce({ ...base, messagesPerSecond: 20 });
    expect(busy.messagesPerPost).toBeCloseTo(2 + Math.exp(-2), 9);
    expect(busy.postsPerMessage).toBeCloseTo(100 / (2 + Math.exp(-2)), 9);
    expect(busy.budgetBound).toBe(false);
    // Cycles run 2 / 2.135 of the time; a message arriving then waits half a cycle on average.
    expect(busy.addedWaitMeanMs).toBeCloseTo(((0.1 / (0.1 + Math.exp(-2) / 20)) * 100) / 2, 9);
    expect(busy.addedWaitMaxMs).toBe(100);
  });

  test.each([
    [1, 0.1, 0],
    [5, 0.07, 0],
    [20, 0.1, 0],
    [50, 0.25, 0],
    [1, 0.07, 0.1],
    [5, 0.07, 0.1],
    [20, 0.1, 0.1],
  ])(
    'the closed form matches the room played out message by message (%d/s, %d s cycles, %d s window)',
    (rate, cycle, window) => {
      const model = coalesce({
        ...base,
        messagesPerSecond: rate,
        cycleMs: cycle * 1000,
        maxBatch: 1e9,
        windowMs: window * 1000,
      });
      const played = simulate(rate, cycle, 200_000, rate, window);
      expect(Math.abs(played.messagesPerPost / model.messagesPerPost - 1)).toBeLessThan(0.01);
    },
  );

  test("a busy room's window adds (1 - e^(-rT))·r·W messages per post, and the window to the longest wait", () => {
    const windowed = coalesce({ ...base, messagesPerSecond: 5, cycleMs: 70, windowMs: 100 });
    const idle = Math.exp(-0.35);
    expect(windowed.messagesPerPost).toBeCloseTo(0.35 + idle + (1 - idle) * 0.5, 9);
    expect(windowed.addedWaitMaxMs).toBeCloseTo(170, 9);
    // A message of a quiet room (nothing arrives during its cycle) still goes at once.
    expect(coalesce({ ...base, messagesPerSecond: 0.001, windowMs: 100 }).addedWaitMeanMs).toBeLessThan(0.02);
  });

  test('rooms competing for the posting budget coalesce harder and post exactly the budget', () => {
    // 2 rooms of 1,000 at 10/s with 70 ms cycles would post 2 x 1,000 x 10 / 1.197 = 16,700/s.
    const twoRooms = { ...base, roomSize: 1000, rooms: 2, messagesPerSecond: 10, cycleMs: 70 };
    const free = coalesce(twoRooms);
    expect(free.postsPerSecond).toBeGreaterThan(16_000);
    const shared = coalesce({ ...twoRooms, postingBudgetPerSecond: 8000 });
    expect(shared.budgetBound).toBe(true);
    expect(shared.postsPerSecond).toBeCloseTo(8000, 6);
    expect(shared.messagesPerPost).toBeCloseTo(2.5, 9); // 10/s x 2 rooms x 1,000 members / 8,000 posts/s
    expect(shared.effectiveCycleMs).toBeCloseTo(250, 6);
    expect(shared.overBudget).toBe(false);
    const full = coalesce({ ...twoRooms, postingBudgetPerSecond: 8000, maxBatch: 2 });
    expect(full.overBudget).toBe(true);
    expect(full.messagesPerPost).toBe(2);
  });

  test('a batch holds as many messages as fit one 32 KB frame, and a long message goes alone', () => {
    const f = frameSizes(200);
    const fit = batchCapacity(f.messageFrameBytes, f.batchWrapperBytes, 32 * 1024);
    const frame = JSON.stringify({ type: 'message', text: 'x'.repeat(f.messageFrameBytes - 28) });
    expect(frame.length).toBe(f.messageFrameBytes);
    const batch = (n: number) =>
      Buffer.byteLength(
        JSON.stringify({ type: 'batch', roomId: 'K7M2QD', messages: Array(n).fill(JSON.parse(frame)) }),
      );
    expect(batch(fit)).toBeLessThanOrEqual(32 * 1024);
    expect(batch(fit + 1)).toBeGreaterThan(32 * 1024);
    expect(batchCapacity(20_000, f.batchWrapperBytes, 32 * 1024)).toBe(1);
  });
});

describe('hot rooms in the monthly estimate', () => {
  const hot = (roomSize: number, perSecond: number, rooms = 1): Workload => ({
    roomSize,
    rooms,
    messagesPerDay: perSecond * rooms * 86_400,
    connections: roomSize * rooms,
    days: 30,
    messageBytes: 200,
  });
  const posts = (r: ReturnType<typeof estimate>) =>
    r.designs.roomcast.items.find((i) => i.component.startsWith('@connections posts'))?.quantity ?? NaN;

  test('posts per month are the messages x members ÷ messages per post', () => {
    const r = estimate(hot(100, 20), { ...DEFAULT_ASSUMPTIONS, fanoutCycleMs: 100 });
    // No window: the queue hands a busy room's next batch out as soon as the last is done.
    const perPost = 20 * 0.1 + Math.exp(-2);
    expect(r.delivery.messagesPerPost).toBeCloseTo(perPost, 9);
    expect(posts(r)).toBeCloseTo((r.messagesPerMonth * 100) / perPost, 0);
    const alone = estimate(hot(100, 20), { ...DEFAULT_ASSUMPTIONS, coalescing: false });
    expect(posts(alone)).toBe(alone.messagesPerMonth * 100);
  });

  test("says what of the queue it leaves out: the pipe's idle polls", () => {
    const leftOut = (r: ReturnType<typeof estimate>) =>
      r.designs.roomcast.notes.filter((n) => n.startsWith("Not counted: the pipe's idle long polls"));
    expect(leftOut(estimate(hot(100, 20)))).toHaveLength(1);
  });

  test('the cycle defaults to the estimated execution plus one read', () => {
    const r = estimate(hot(1000, 5));
    expect(r.delivery.cycleSource).toBe('estimated');
    expect(r.delivery.cycleMs).toBe(r.fanout.stateMachineMs + DEFAULT_ASSUMPTIONS.queryMs);
  });

  test.each([
    [1000, 5],
    [1000, 20],
    [100, 20],
    [10_000, 5],
  ])('a hot room of %d members at %d messages/s costs less on roomcast than on AppSync Events', (n, rate) => {
    const r = estimate(hot(n, rate));
    expect(r.designs.roomcast.totalUsd).toBeLessThan(r.designs.appsync.totalUsd);
  });

  test('coalescing is most of the gain: a room of 100 at 20 messages/s costs 30% less than posting each message', () => {
    const alone = estimate(hot(100, 20), { ...DEFAULT_ASSUMPTIONS, coalescing: false });
    const coalesced = estimate(hot(100, 20));
    expect(coalesced.designs.roomcast.totalUsd).toBeLessThan(0.7 * alone.designs.roomcast.totalUsd);
    expect(coalesced.designs.roomcast.totalUsd).toBeLessThan(0.7 * coalesced.designs.appsync.totalUsd);
  });

  test('rooms of 100 at 5 messages/s with the estimated cycle: too few coalesce to offset the send path', () => {
    // Stated in docs/COST.md: a 70 ms cycle coalesces about 5% of the posts away; AppSync Events is a few % cheaper.
    const r = estimate(hot(100, 5));
    expect(r.delivery.messagesPerPost).toBeGreaterThan(1.03);
    expect(r.delivery.messagesPerPost).toBeLessThan(1.07);
    expect(r.designs.roomcast.totalUsd).toBeGreaterThan(r.designs.appsync.totalUsd);
    expect(r.designs.roomcast.totalUsd).toBeLessThan(1.1 * r.designs.appsync.totalUsd);
  });

  test('twenty rooms of 100 at 5 messages/s share the posting budget and coalesce below AppSync Events', () => {
    const r = estimate(hot(100, 5, 20));
    expect(r.delivery.budgetBound).toBe(true);
    expect(r.delivery.postsPerSecond).toBeCloseTo(DEFAULT_ASSUMPTIONS.postingBudgetPerSecond, 6);
    expect(r.designs.roomcast.totalUsd).toBeLessThan(r.designs.appsync.totalUsd);
  });
});
