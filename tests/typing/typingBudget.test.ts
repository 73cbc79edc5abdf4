import type { Connection, Member, PostOutcome } from '#core/ports';
import { DynamoFanoutStore } from '#deliver/dynamoFanout';
import { DynamoPostBudget } from '#deliver/dynamoPostBudget';
import { TYPING_BUDGET_CEILING } from '#deliver/postBudget';
import { relayTyping, type TypingDeps } from '#typing/relay';
import { templateTables } from '../helpers/templateTables';

/**
 * Typing's posts against the account's posting budget (the Limits table's per-second shard counters, dynalite): they
 * are counted with the fan-out's, and typing is the lowest priority: a second half taken relays no typing (the
 * heartbeat is dropped, nothing posted), while a room's messages still find the rest of it.
 */
const tables = templateTables();
let limits: string;
/** A budget of 400 posts/s: one shard, so the counts below are the second's. */
const PER_SECOND = 400;
let nextSecond = Math.floor(Date.now() / 1000) + 20_000;

beforeAll(() => {
  limits = tables.table('LimitsTable');
});

const fanout = () => new DynamoFanoutStore(tables.db, { subscriptions: 'unused', limits });
const typingTake = (now: number) => {
  const store = new DynamoPostBudget(tables.db, { limits });
  return async (posts: number) =>
    (await store.reserve(posts, PER_SECOND, now, TYPING_BUDGET_CEILING)) !== undefined;
};

it('counts typing posts with the fan-out’s and stops typing at half a second’s budget, messages going on to its end', async () => {
  const now = nextSecond++ * 1000;
  const take = typingTake(now);
  expect(await fanout().reserve(150, PER_SECOND, now)).toBeDefined();
  // Typing takes from the same second while it stays under half of it.
  expect(await take(40)).toBe(true);
  expect(await take(20)).toBe(false); // 210 > 200: typing gives way
  // The fan-out still fills the second to its end, typing's 40 posts counted: 190 taken, 210 left.
  expect(await fanout().reserve(211, PER_SECOND, now)).toBeUndefined();
  expect(await fanout().reserve(210, PER_SECOND, now)).toBeDefined();
  expect(await take(1)).toBe(false);
});

it('drops a heartbeat in a second whose budget is half taken, posting nothing to the room', async () => {
  const now = nextSecond++ * 1000;
  expect(await fanout().reserve(PER_SECOND / 2, PER_SECOND, now)).toBeDefined();
  const posted: string[] = [];
  const typist: Connection = {
    connectionId: 'typist',
    roomId: 'ROOM',
    username: 'ana',
    connectedAt: new Date(now).toISOString(),
  } as Connection;
  const members: Member[] = ['typist', 'ben', 'cat'].map((connectionId) => ({
    connectionId,
    username: connectionId,
  }));
  const deps = {
    connections: { get: async () => typist },
    notifier: {
      post: async (connectionId: string): Promise<PostOutcome> => {
        posted.push(connectionId);
        return 'delivered';
      },
    },
    now: () => new Date(now),
    typing: {
      noteStart: async () => true,
      noteStop: async () => true,
      membersUpTo: async () => members,
      takeMemberTurn: async () => true,
    },
    settings: { intervalMs: 3000, maxMembers: 20 },
    budget: { take: typingTake(now) },
  } as unknown as TypingDeps;
  expect(await relayTyping(deps, 'typist', true)).toEqual({ kind: 'dropped', reason: 'noBudget' });
  expect(posted).toEqual([]);

  // A second with room relays it to the two others.
  const later = nextSecond++ * 1000;
  const relayed = await relayTyping(
    { ...deps, now: () => new Date(later), budget: { take: typingTake(later) } },
    'typist',
    true,
  );
  expect(relayed).toEqual({ kind: 'relayed', posted: 2 });
  expect(posted.sort()).toEqual(['ben', 'cat']);
});
