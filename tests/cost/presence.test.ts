import { reservationWrites } from '#deliver/postBudget';
import { memberCosts, memberRequestDrafts } from '../../tools/cost/members';
import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { asIsCost, asIsShape, presenceCosts, presenceTable } from '../../tools/cost/presence';
import { PRICES, type PriceTable } from '../../tools/cost/prices';
import type { Assumptions } from '../../tools/cost/types';

/** The cost of presence changes and room broadcasts, each fanned out on its own (tools/cost/presence.ts). */

/** Every price is 1 USD per unit, flat: a line's USD equals its quantity. */
const UNIT_PRICES = Object.fromEntries(
  Object.entries(PRICES).map(([id, p]) => [
    id,
    { ...p, tiers: [{ upTo: Number.POSITIVE_INFINITY, usd: 1 }] },
  ]),
) as unknown as PriceTable;
const SETTINGS = { memoryMb: 256 };
const A: Assumptions = { ...DEFAULT_ASSUMPTIONS, chunkSize: 100, pageSize: 1000, maxConcurrency: 10 };
const quantity = (items: { component: string; quantity: number }[], component: string) =>
  items.find((i) => i.component === component)?.quantity;

it('posts a leave to the members left and a join to every member, the joiner too: 999 and 1,000 in a room of 1,000', () => {
  const leave = asIsCost('leave', 1000, A, UNIT_PRICES, SETTINGS);
  const join = asIsCost('join', 1000, A, UNIT_PRICES, SETTINGS);
  expect(leave.posts).toBe(999);
  expect(quantity(leave.items, 'presence posts')).toBe(999e6);
  expect(join.posts).toBe(1000);
  expect(quantity(join.items, 'presence posts')).toBe(1000e6);
  for (const size of [10, 100])
    expect(asIsCost('leave', size, A, UNIT_PRICES, SETTINGS).posts).toBe(size - 1);
});

it('runs one Express execution and one Deliver per chunk of members, each chunk reserving its posts in the budget', () => {
  for (const size of [10, 100, 500]) {
    const { items } = asIsCost('leave', size, A, UNIT_PRICES, SETTINGS);
    const chunks = Math.ceil((size - 1) / A.chunkSize);
    expect(quantity(items, 'Express request')).toBe(1e6);
    expect(quantity(items, 'Deliver requests (one per chunk and per full page)')).toBe(chunks * 1e6);
    const writes = asIsShape(size - 1, A).chunks.reduce(
      (sum, members) => sum + reservationWrites(members, A.postingBudgetPerSecond),
      0,
    );
    expect(writes).toBe(chunks);
    expect(quantity(items, 'posting budget reservations')).toBe(writes * 1e6);
  }
});

it('writes to every budget shard for a chunk too big for one shard, as reservationWrites says', () => {
  // A chunk of 1,000 under a budget of 8,000 posts/s (16 shards of 500) takes a part from every shard.
  const wide = { ...A, chunkSize: 1000 };
  const { items } = asIsCost('broadcast', 1000, wide, UNIT_PRICES, SETTINGS);
  expect(reservationWrites(1000, wide.postingBudgetPerSecond)).toBe(16);
  expect(quantity(items, 'posting budget reservations')).toBe(16e6);
});

it('reads a full last page twice: DynamoDB hands back a LastEvaluatedKey at the Limit, so one more (empty) Query and a page step follow', () => {
  const full = asIsShape(1000, A);
  expect(full.pageItems).toEqual([1000, 0]);
  expect(full.pageSteps).toBe(1);
  const partial = asIsShape(999, A);
  expect(partial.pageItems).toEqual([999]);
  expect(partial.pageSteps).toBe(0);
  const { items } = asIsCost('join', 1000, A, UNIT_PRICES, SETTINGS);
  // Each page read over the room's 10 keys at its key level: 1,000 entries (100 a key: 8,000 B, 2 × 4 KB, halved:
  // 1 RRU each) and the empty page's minimum half unit on each key: 10 + 5.
  expect(quantity(items, 'RoomSubscribers Query pages')).toBe(15e6);
  expect(quantity(items, 'Deliver requests (one per chunk and per full page)')).toBe(11e6);
});

it('prices a broadcast above a leave in the same room: one more post, the REST call and its own function', () => {
  for (const size of [10, 100, 1000]) {
    const leave = asIsCost('leave', size, A, PRICES, SETTINGS);
    const broadcast = asIsCost('broadcast', size, A, PRICES, SETTINGS);
    expect(broadcast.posts).toBe(leave.posts + 1);
    expect(quantity(broadcast.items, 'REST call')).toBe(1e6);
    // $3.50 per million REST calls and $1 per million posts, before the function and its DynamoDB work.
    expect(broadcast.usdPerMillion - leave.usdPerMillion).toBeGreaterThan(4.5);
    expect(quantity(leave.items, 'REST call')).toBeUndefined();
  }
});

it('totals every line item and grows with the room about a dollar per post per million', () => {
  const rows = presenceCosts(A, PRICES, SETTINGS);
  for (const cost of rows.flat()) {
    expect(cost.usdPerMillion).toBeCloseTo(
      cost.items.reduce((sum, item) => sum + item.usd, 0),
      9,
    );
    expect(cost.items.every((item) => item.usd >= 0)).toBe(true);
  }
  const [ten, , thousand] = rows[1] ?? [];
  const perExtraPost = ((thousand?.usdPerMillion ?? 0) - (ten?.usdPerMillion ?? 0)) / (999 - 9);
  expect(perExtraPost).toBeGreaterThan(1);
  expect(perExtraPost).toBeLessThan(1.05);
});

it('npm run cost prints each event at rooms of 10, 100 and 1,000 with its posts and USD per million', () => {
  const rows = presenceCosts(A, PRICES, SETTINGS);
  const table = presenceTable(rows);
  expect(table).toMatch(/^presence changes and room broadcasts/);
  const leaveLine = table.split('\n').find((line) => line.includes('leave or disconnect')) ?? '';
  for (const cost of rows[1] ?? []) {
    const usd = cost.usdPerMillion.toLocaleString('en-US', {
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    });
    expect(leaveLine).toContain(`$${usd} (${cost.posts})`);
  }
  expect(leaveLine).toContain('(999)');
});

it("counts opendm's presence join with its fan-out, not as a lone bus event", () => {
  const opendm = memberRequestDrafts(A, 10, 50).opendm;
  // Its join goes to the DM room's two connections through an execution and a Deliver, like any presence change.
  expect(quantity(opendm, 'presence posts')).toBe(2);
  expect(quantity(opendm, 'Express request')).toBe(1);
  expect(quantity(opendm, 'posting budget reservations')).toBe(1);
  const join = asIsCost('join', 2, A, PRICES, SETTINGS).usdPerMillion;
  expect(memberCosts(A, PRICES, 50)[0]?.opendmUsdPerMillion).toBeGreaterThan(join + 2.2);
});
