import { joinBurst, reconnectStorm, runPresence } from '../../tools/bench/presence';
import { AWS } from '../../tools/local/awsProfile';

/**
 * The presence model (tools/bench/presence.ts, `npm run bench -- --model presence`): a room's board keeps a join
 * burst's posts in proportion to its members, where a queue message per change grows with their square; and a message
 * of the room waits behind no pile of presence.
 */

it('a join burst costs the board posts in proportion to the room, a queue message per change their square', () => {
  const board = (n: number) => runPresence(joinBurst(n, 60), 'board', AWS);
  const queue = (n: number) => runPresence(joinBurst(n, 60), 'queue', AWS);
  // Twice the members in the same 60 s: the board's turns stay about as many, so posts about double.
  expect(board(5_000).posts / board(2_500).posts).toBeLessThan(2.5);
  expect(queue(5_000).posts / queue(2_500).posts).toBeGreaterThan(3);
  expect(board(5_000).postsPerMember).toBeLessThan(queue(5_000).postsPerMember / 2);
});

it('a message sent mid-burst or mid-storm waits behind at most one presence execution', () => {
  expect(runPresence(joinBurst(), 'queue', AWS).messageWaitSeconds).toBeGreaterThan(10);
  // 100,000 back at 500/s take 200 s, past the stretched grace's cap: the later part are told a leave and a join.
  for (const load of [joinBurst(), reconnectStorm(5_000, 100_000)])
    expect(runPresence(load, 'board', AWS).messageWaitSeconds).toBeLessThanOrEqual(1);
});

it('a reconnect storm tells a room nothing of the people back within it, and only past the stretch of the others', () => {
  // 20,000 back at 500/s by 40 s: the grace stretched by 40 s (grace.ts) covers them all.
  expect(reconnectStorm(5_000, 20_000).changes).toEqual([]);
  // 100,000 take 200 s; the stretch is capped at 120 s, so those back after 5 + 120 s leave and join again.
  const past = reconnectStorm(5_000, 100_000).changes;
  expect(past.filter((c) => c.event === 'leave').every((c) => c.at === 125)).toBe(true);
  expect(past.filter((c) => c.event === 'join')).toHaveLength(5_000 - 125 * 25 - 1);
});
