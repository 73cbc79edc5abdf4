import { roomMemberReadUnits } from '../../tools/cost/metering';
import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { PRICES, type PriceTable } from '../../tools/cost/prices';
import { typingCost, typingTable } from '../../tools/cost/typing';

/** Every price is 1 USD per unit, flat: a line's USD equals its quantity. */
const UNIT_PRICES = Object.fromEntries(
  Object.entries(PRICES).map(([id, p]) => [
    id,
    { ...p, tiers: [{ upTo: Number.POSITIVE_INFINITY, usd: 1 }] },
  ]),
) as unknown as PriceTable;
const SETTINGS = { intervalSeconds: 5, maxMembers: 100, memoryMb: 256 };
const quantity = (items: { component: string; quantity: number }[], component: string) =>
  items.find((i) => i.component === component)?.quantity;

it('a heartbeat in a room of 10 posts to the 9 others and writes twice, with no fan-out service', () => {
  const { posts, items } = typingCost(10, SETTINGS, DEFAULT_ASSUMPTIONS, UNIT_PRICES);
  expect(posts).toBe(9);
  expect(quantity(items, 'typing frames posted')).toBe(9e6);
  expect(quantity(items, 'frame count and typing mark')).toBe(2e6);
  expect(items.map((i) => i.service)).not.toContain('Step Functions');
  expect(items.map((i) => i.service)).not.toContain('EventBridge');
});

it('a room above TypingMaxMembers posts nothing and reads at most TypingMaxMembers + 1 members', () => {
  const big = typingCost(1000, SETTINGS, DEFAULT_ASSUMPTIONS, UNIT_PRICES);
  const huge = typingCost(100_000, SETTINGS, DEFAULT_ASSUMPTIONS, UNIT_PRICES);
  expect(big.posts).toBe(0);
  expect(quantity(big.items, 'typing frames posted')).toBe(0);
  // The read stops one member past the limit, on the keys of the room's level in turn: a room of 100,000 (12 keys of
  // ~8,300) reads its 101 on one key, a room of 1,000 (10 keys of 100) on two, one Query page more; reading every
  // member of the room of 1,000 would be ten pages of 100.
  const bigReads = quantity(big.items, 'members read (bounded)') ?? 0;
  const hugeReads = quantity(huge.items, 'members read (bounded)') ?? 0;
  expect(bigReads - hugeReads).toBe(0.5e6);
  expect(bigReads).toBeLessThan(1e6 * roomMemberReadUnits(1000, DEFAULT_ASSUMPTIONS, 1000));
  expect(quantity(huge.items, 'typing frames posted')).toBe(0);
});

it("reads a room's members on its key level's keys only: one Query for a room of 10, not one per index key", () => {
  const small = typingCost(10, SETTINGS, DEFAULT_ASSUMPTIONS, UNIT_PRICES);
  // The room's key level (a strongly consistent GetItem of its item) and key 0's Query: 1 + 0.5 RRU.
  expect(quantity(small.items, 'members read (bounded)')).toBe(1.5e6);
});

it('npm run cost prints the typing rows at rooms of 10, 100 and 1,000, priced from the model', () => {
  const table = typingTable(SETTINGS, DEFAULT_ASSUMPTIONS, PRICES);
  for (const size of [10, 100, 1000]) {
    const { usdPerMillion } = typingCost(size, SETTINGS, DEFAULT_ASSUMPTIONS, PRICES);
    expect(table).toMatch(new RegExp(`\\n\\s+${size}\\s+.*\\$${usdPerMillion.toFixed(2)}`));
  }
  // At list prices a heartbeat to 99 others costs about as much as 99 posts ($1 per million each).
  expect(typingCost(100, SETTINGS, DEFAULT_ASSUMPTIONS, PRICES).usdPerMillion).toBeGreaterThan(99);
});
