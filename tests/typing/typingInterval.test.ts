import type { Connection, Member, PostOutcome } from '#core/ports';
import { relayTyping, type TypingDeps } from '#typing/relay';

/**
 * The typing interval on an injected clock (functions/typing/relay.ts): a member's heartbeats reach the others at
 * most once per TypingIntervalSeconds, and the first one after the interval goes through. The clock is the function's
 * own `now` port, so the interval is met or missed by the same milliseconds however busy the machine is; the end to
 * end file (typing.test.ts) holds what the wire shows within one interval.
 */
const INTERVAL_MS = 4_000;
const T0 = 1_800_000_000_000;

/** Ana typing in a room with Ben and Cat, her connection's typing marks kept as the Connections table keeps them. */
function roomWithAna() {
  const clock = { t: T0 };
  const ana = { connectionId: 'ana', roomId: 'ROOM', username: 'ana' } as Connection & { typingAt?: number };
  const members: Member[] = ['ana', 'ben', 'cat'].map((connectionId) => ({
    connectionId,
    username: connectionId,
  }));
  const posted: { to: string; at: number }[] = [];
  const deps = {
    connections: { get: async () => ({ ...ana }) },
    notifier: {
      post: async (connectionId: string, payload: string): Promise<PostOutcome> => {
        posted.push({ to: connectionId, at: (JSON.parse(payload) as { at: number }).at });
        return 'delivered';
      },
    },
    now: () => new Date(clock.t),
    typing: {
      // The conditional write: only over the heartbeat the frame read, so two racing frames relay one.
      noteStart: async (_c: string, _r: string, at: number, previous: number | undefined) => {
        if (ana.typingAt !== previous) return false;
        ana.typingAt = at;
        return true;
      },
      noteStop: async () => true,
      membersUpTo: async () => members,
      takeMemberTurn: async () => true,
    },
    settings: { intervalMs: INTERVAL_MS, maxMembers: 20 },
  } as unknown as TypingDeps;
  return { clock, posted, heartbeat: () => relayTyping(deps, 'ana', true) };
}

it('relays a burst of heartbeats within the interval once, to the others only', async () => {
  const room = roomWithAna();
  const outcomes = [];
  for (let i = 0; i < 10; i++) {
    outcomes.push((await room.heartbeat()).kind);
    room.clock.t += Math.floor((INTERVAL_MS - 1) / 9);
  }
  expect(outcomes).toEqual(['relayed', ...Array(9).fill('dropped')]);
  expect(room.posted).toEqual([
    { to: 'ben', at: T0 },
    { to: 'cat', at: T0 },
  ]);
});

it('relays the first heartbeat once the interval has passed, and none a millisecond before', async () => {
  const room = roomWithAna();
  expect(await room.heartbeat()).toEqual({ kind: 'relayed', posted: 2 });
  room.clock.t = T0 + INTERVAL_MS - 1;
  expect(await room.heartbeat()).toEqual({ kind: 'dropped', reason: 'throttled' });
  room.clock.t = T0 + INTERVAL_MS;
  expect(await room.heartbeat()).toEqual({ kind: 'relayed', posted: 2 });
  expect(room.posted.map((p) => p.at)).toEqual([T0, T0, T0 + INTERVAL_MS, T0 + INTERVAL_MS]);
});
