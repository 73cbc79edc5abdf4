import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoFanoutStore, grantedPosts, type PostGrant } from '#deliver/dynamoFanout';
import { budgetShares } from '#deliver/postBudget';
import { templateTables } from '../helpers/templateTables';

/**
 * The fan-out's account-wide posting budget against the local DynamoDB (dynalite): each second's budget is split in
 * shard items so that no item takes more writes per second than DynamoDB allows one key (1,000 write units), and the
 * shards together never grant more than the budget, however reservations and refunds interleave.
 */
const tables = templateTables();
/** Writes sent to each budget item's key, failed conditional writes included (they consume a write unit too). */
const writes = new Map<string, number>();
/** The tables' client, counting each UpdateItem by the key it writes. */
let counted: DynamoDBDocumentClient;
let limits: string;
/** Each test reserves in seconds of its own. */
let nextSecond = Math.floor(Date.now() / 1000) + 10_000;

beforeAll(async () => {
  limits = tables.table('LimitsTable');
  counted = {
    send: (command: unknown) => {
      if (command instanceof UpdateCommand) {
        const key = String(command.input.Key?.limitKey);
        writes.set(key, (writes.get(key) ?? 0) + 1);
      }
      return tables.db.send(command as UpdateCommand);
    },
  } as unknown as DynamoDBDocumentClient;
});

beforeEach(() => writes.clear());

const fanout = (random: () => number) =>
  new DynamoFanoutStore(counted, { subscriptions: 'unused', limits }, random);

/** A repeatable sequence in [0, 1) (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** Random numbers that pick these shards in turn, out of `count`. */
const picks = (count: number, ...values: number[]) => {
  let i = 0;
  return () => ((values[i++ % values.length] as number) + 0.5) / count;
};

/** What each shard of `second` counts, for a budget of `perSecond`. */
async function shardsUsed(second: number, perSecond: number): Promise<number[]> {
  return Promise.all(
    budgetShares(perSecond).map(async (_, shard) => {
      const { Item } = await tables.db.send(
        new GetCommand({
          TableName: limits,
          Key: { limitKey: `post-budget#${second}#${shard}` },
          ConsistentRead: true,
        }),
      );
      return Number(Item?.posts ?? 0);
    }),
  );
}

const sum = (values: number[]) => values.reduce((n, v) => n + v, 0);

/** Runs `tasks` with at most `inFlight` of them at a time. */
async function inParallel<T>(tasks: (() => Promise<T>)[], inFlight: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await (tasks[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return results;
}

it("splits a second's budget in shards of at most 500 posts whose shares add up to exactly the budget", () => {
  expect(budgetShares(1)).toEqual([1]);
  expect(budgetShares(500)).toEqual([500]);
  expect(budgetShares(501)).toEqual([251, 250]);
  expect(budgetShares(8000)).toEqual(new Array(16).fill(500));
  for (const perSecond of [1, 499, 500, 501, 1201, 7999, 8000, 8001, 10_000]) {
    const shares = budgetShares(perSecond);
    expect(sum(shares)).toBe(perSecond);
    expect(Math.max(...shares)).toBeLessThanOrEqual(500);
    expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
  }
});

it('never grants more than the budget in one second, however many reserve at once, refunds and re-reservations included', async () => {
  const second = nextSecond++;
  const perSecond = 1201; // 3 shards of 401, 400, 400: single-shard reservations up to 200, bigger ones spread
  const store = fanout(seeded(7));
  const random = seeded(11);
  const size = () => 1 + Math.floor(random() * (random() < 0.8 ? 40 : 400));
  const reserveMany = (count: number) =>
    inParallel(
      Array.from({ length: count }, () => () => store.reserve(size(), perSecond, second * 1000 + 100)),
      32,
    );
  const first = (await reserveMany(200)).filter((g): g is PostGrant => g !== undefined);
  let held = sum(first.map(grantedPosts));
  // The first round asked for several budgets' worth: the second is (nearly) full, and never over.
  expect(held).toBeLessThanOrEqual(perSecond);
  expect(held).toBeGreaterThan(perSecond * 0.8);
  // Half the grants give back most of what they took, while more reservations race for it.
  const refunds = first.filter((_, i) => i % 2 === 0);
  const [, again] = await Promise.all([
    Promise.all(refunds.map((g) => store.refund(g, Math.floor(grantedPosts(g) / 3)))),
    reserveMany(200),
  ]);
  held -= sum(refunds.map((g) => grantedPosts(g) - Math.floor(grantedPosts(g) / 3)));
  held += sum(again.map(grantedPosts));
  const used = await shardsUsed(second, perSecond);
  // What the shards count is exactly what the callers hold, and within each shard's share and the budget.
  expect(sum(used)).toBe(held);
  expect(sum(used)).toBeLessThanOrEqual(perSecond);
  for (const [shard, share] of budgetShares(perSecond).entries())
    expect(used[shard]).toBeLessThanOrEqual(share);
});

it('a reservation whose randomly chosen shard is full is granted by one other shard: two writes', async () => {
  const second = nextSecond++;
  const perSecond = 2000; // 4 shards of 500
  // Fill shard 2.
  expect(await fanout(picks(4, 2)).reserve(250, perSecond, second * 1000)).toBeDefined();
  expect(await fanout(picks(4, 2)).reserve(250, perSecond, second * 1000)).toBeDefined();
  writes.clear();
  // Shard 2 first, then the first of the other three (shard 3).
  const grant = await fanout(picks(4, 2, 0)).reserve(10, perSecond, second * 1000 + 900);
  expect(grant).toEqual({ second, shards: [{ shard: 3, posts: 10 }] });
  expect(await shardsUsed(second, perSecond)).toEqual([0, 0, 500, 10]);
  expect(sum([...writes.values()])).toBe(2);
  // Two full shards tried: refused after two writes, though the second has room elsewhere.
  await fanout(picks(4, 3)).reserve(245, perSecond, second * 1000);
  await fanout(picks(4, 3)).reserve(245, perSecond, second * 1000);
  expect(await shardsUsed(second, perSecond)).toEqual([0, 0, 500, 500]);
  writes.clear();
  expect(await fanout(picks(4, 2, 0)).reserve(1, perSecond, second * 1000)).toBeUndefined();
  expect(sum([...writes.values()])).toBe(2);
});

// 2,000/s has four shards of 500, as 8,000/s has sixteen: the same per-key load at a quarter of the requests, so the
// test does not run for a minute on the local DynamoDB.
it('2,000 one-post reservations in one second of a 2,000/s budget write no budget item more than DynamoDB takes of one key', async () => {
  const second = nextSecond++;
  const perSecond = 2000;
  const store = fanout(seeded(42));
  const grants = await inParallel(
    Array.from(
      { length: perSecond },
      (_, i) => () => store.reserve(1, perSecond, second * 1000 + (i % 1000)),
    ),
    64,
  );
  const used = await shardsUsed(second, perSecond);
  // The budget is still (nearly) all usable, and never exceeded.
  expect(sum(used)).toBe(sum(grants.map(grantedPosts)));
  expect(sum(used)).toBeLessThanOrEqual(perSecond);
  expect(sum(used)).toBeGreaterThan(perSecond * 0.98);
  // Each item is written at most its share (500) times by the grants; with the writes that failed, all below the
  // 1,000 write units per second one key takes.
  expect([...writes.keys()].sort()).toEqual(
    budgetShares(perSecond)
      .map((_, shard) => `post-budget#${second}#${shard}`)
      .sort(),
  );
  for (const posts of used) expect(posts).toBeLessThanOrEqual(500);
  expect(Math.max(...writes.values())).toBeLessThan(1000);
  // At most two writes per reservation.
  expect(sum([...writes.values()])).toBeLessThanOrEqual(2 * perSecond);
}, 240_000);

it('a refund gives the posts back to the shard they were taken from', async () => {
  const second = nextSecond++;
  const perSecond = 2000;
  const one = await fanout(picks(4, 1)).reserve(100, perSecond, second * 1000);
  const other = await fanout(picks(4, 3)).reserve(60, perSecond, second * 1000 + 999);
  expect(await shardsUsed(second, perSecond)).toEqual([0, 100, 0, 60]);
  await fanout(picks(4, 0)).refund(one as PostGrant, 30);
  expect(await shardsUsed(second, perSecond)).toEqual([0, 30, 0, 60]);
  await fanout(picks(4, 0)).refund(other as PostGrant, 0);
  expect(await shardsUsed(second, perSecond)).toEqual([0, 30, 0, 0]);
  // Given back in the second the posts were taken in, not the one it is now.
  expect(await shardsUsed(second + 1, perSecond)).toEqual([0, 0, 0, 0]);
});

it('a reservation bigger than a shard takes its part from every shard, all or none', async () => {
  const second = nextSecond++;
  const perSecond = 2000;
  // More than the whole budget, in an empty second: granted, capped at the budget.
  const whole = await fanout(seeded(1)).reserve(20_000, perSecond, second * 1000);
  expect(grantedPosts(whole)).toBe(2000);
  expect(await shardsUsed(second, perSecond)).toEqual([500, 500, 500, 500]);
  expect(await fanout(seeded(1)).reserve(1, perSecond, second * 1000)).toBeUndefined();
  // Its refund gives back to its shards what was not posted.
  await fanout(seeded(1)).refund(whole as PostGrant, 1200);
  expect(sum(await shardsUsed(second, perSecond))).toBe(1200);
  // One shard too full for its part: nothing is taken from the others.
  const other = nextSecond++;
  const filling = [
    await fanout(picks(4, 1)).reserve(250, perSecond, other * 1000),
    await fanout(picks(4, 1)).reserve(250, perSecond, other * 1000),
  ];
  expect(await shardsUsed(other, perSecond)).toEqual([0, 500, 0, 0]);
  expect(await fanout(seeded(1)).reserve(400, perSecond, other * 1000)).toBeUndefined();
  expect(await shardsUsed(other, perSecond)).toEqual([0, 500, 0, 0]);
  // With room for its part in every shard, it is granted.
  await fanout(seeded(1)).refund(filling[0] as PostGrant, 0);
  expect(grantedPosts(await fanout(seeded(1)).reserve(1000, perSecond, other * 1000))).toBe(1000);
  expect(await shardsUsed(other, perSecond)).toEqual([250, 500, 250, 250]);
});
