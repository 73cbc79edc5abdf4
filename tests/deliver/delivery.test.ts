import type { Notifier, PostOutcome } from '#core/ports';
import { POSTS_IN_FLIGHT, postToConnections } from '#deliver/delivery';

/**
 * A chunk that Deliver cuts off at its deadline, followed by the state machine's next round (which posts to
 * `retryIds` only): every member gets the message exactly once, whether its post was never started, or started and
 * answered only after Deliver stopped waiting. The stage below delivers a post the moment it arrives and answers it
 * `answerMs(id)` later, as a slow management API does. Both run on Jest's fake clock (Date.now and setTimeout): the
 * deadlines are met or missed by the same milliseconds however busy the machine is, and no test waits in real time.
 */
beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});
class SlowStage implements Notifier {
  readonly received = new Map<string, number>();

  constructor(private readonly answerMs: (connectionId: string) => number) {}

  async post(connectionId: string, _payload: string): Promise<PostOutcome> {
    this.received.set(connectionId, (this.received.get(connectionId) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, this.answerMs(connectionId)));
    return 'delivered';
  }

  async info(): Promise<undefined> {
    return undefined;
  }
}

/** Round one with a deadline `stopInMs`/`giveUpInMs` from now, then the state machine's round two. */
async function twoRounds(
  stage: SlowStage,
  ids: string[],
  stopInMs: number,
  giveUpInMs: number,
): ReturnType<typeof postToConnections> {
  const now = Date.now();
  const first = await postToConnections(stage, ids, '{}', {
    stopAt: now + stopInMs,
    giveUpAt: now + giveUpInMs,
  });
  await postToConnections(stage, first.retryIds, '{}');
  return first;
}

/** Moves the fake clock on by `ms`, running every timer that falls due and what it sets off, then awaits `work`. */
async function after<T>(ms: number, work: Promise<T>): Promise<T> {
  await jest.advanceTimersByTimeAsync(ms);
  return work;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `c-${i}`);

it('a post still in flight when Deliver stops waiting is not posted again: its member gets the message once', async () => {
  const members = ['slow', ...ids(10)];
  const stage = new SlowStage((id) => (id === 'slow' ? 1500 : 0));
  // Round one gives up 600 ms in; the clock runs on past the slow post's answer (1.5 s after it started), so a
  // post sent again in round two or after that answer would be counted.
  const first = await after(600 + 1500, twoRounds(stage, members, 300, 600));
  expect(Object.fromEntries(stage.received)).toEqual(Object.fromEntries(members.map((id) => [id, 1])));
  expect(first.unconfirmedIds).toEqual(['slow']);
});

it('when answers slow down, Deliver stops starting posts in time for them to be answered, and hands the rest back', async () => {
  // Every answer takes 700 ms; posting may go on until 50 ms before the give-up point, 2 s from now. Started at
  // 1.4 s, a third round of posts would be caught in flight.
  const members = ids(5 * POSTS_IN_FLIGHT);
  const stage = new SlowStage(() => 700);
  // Round one gives up 2 s in; round two's posts are answered 700 ms after that.
  const first = await after(2000 + 700, twoRounds(stage, members, 1950, 2000));

  expect(first.unconfirmedIds).toEqual([]);
  expect(first.delivered).toBeGreaterThan(0);
  expect(first.delivered + first.retryIds.length).toBe(members.length);
  expect([...stage.received.keys()].sort()).toEqual([...members].sort());
  expect([...stage.received.values()].every((n) => n === 1)).toBe(true);
});
