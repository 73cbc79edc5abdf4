import { DynamoFanoutStore } from '#deliver/dynamoFanout';
import { post } from '#deliver/post';
import { postStage } from '../helpers/fanoutMachine';
import { templateTables } from '../helpers/templateTables';

/**
 * An everyone-broadcast's place in the posting budget (the Limits table's per-second shard counters, dynalite): its
 * chunks are counted with a room's, but take a second only while it is under half full (BROADCAST_BUDGET_CEILING),
 * so a broadcast to every connection never leaves a room's messages less than half of any second.
 */
const tables = templateTables();
/** A budget of 400 posts/s: one shard, so the counts below are the second's. */
const PER_SECOND = 400;
let nextSecond = Math.floor(Date.now() / 1000) + 30_000;

/** Deliver's ports at `now` with the budget of the template's Limits table. */
const stage = (now: number) =>
  postStage({
    store: new DynamoFanoutStore(tables.db, {
      subscriptions: tables.table('SubscriptionsTable'),
      limits: tables.table('LimitsTable'),
      resyncIndex: 'ResyncIndex',
    }),
    postsPerSecond: PER_SECOND,
    now: () => now,
  });

const frames = (messages: number) => [
  { payload: '{"type":"broadcast","text":"hi"}', firstSeq: 1, lastSeq: 1, messages },
];
/** A repost chunk of `n` members (the repost reserves at once, all or none: no waiting for the next second). */
const chunk = (prefix: string, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 0]));

it("posts a broadcast's chunk only while the second is under half taken, and a room's chunk to the second's end", async () => {
  const now = nextSecond++ * 1000;
  const { deps: given, posted } = stage(now);
  // The broadcast takes the second's first half.
  await post(given, { op: 'post', roomId: null, frames: frames(0), retry: chunk('b', 200) });
  expect(posted).toHaveLength(200);
  // A further broadcast chunk finds no room in this second: it is not posted.
  await post(given, { op: 'post', roomId: null, frames: frames(0), retry: chunk('x', 1) });
  expect(posted.filter((id) => id.startsWith('x'))).toEqual([]);
  // A room's chunk still finds the second half, whole.
  await post(given, { op: 'post', roomId: 'ROOM1234', frames: frames(1), retry: chunk('r', 200) });
  expect(posted.filter((id) => id.startsWith('r'))).toHaveLength(200);
});
