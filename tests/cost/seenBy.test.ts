import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { PRICES } from '../../tools/cost/prices';
import { roomsPerConnection } from '../../tools/cost/rooms';
import { renderSeenBy, seenByComparison } from '../../tools/cost/seenBy';

/** "Seen by" polled vs pushed (tools/cost/seenBy.ts), and a member in k rooms (tools/cost/rooms.ts). */
const active = seenByComparison(DEFAULT_ASSUMPTIONS, PRICES, 50, 50);

it('models the polling issue 43 measured: an active 50-member room asks 10 times a second, ~600 read units', () => {
  expect(active.before.invocationsPerSecond).toBe(10);
  expect(active.before.readUnitsPerSecond).toBeGreaterThan(500);
  expect(active.before.readUnitsPerSecond).toBeLessThan(650);
});

it('pushed reads cost about an eighth of the read units and a tenth of the Lambda invocations, paid in coalesced posts', () => {
  // markread's size read is one Query of the room's one key (its level comes with the head's read).
  expect(active.after.readUnitsPerSecond).toBeLessThanOrEqual(active.before.readUnitsPerSecond / 8);
  expect(active.after.invocationsPerSecond).toBeLessThanOrEqual(1);
  // Ten reads a second share one cycle: each member one post, not ten.
  expect(active.after.postsPerSecond).toBe(50);
  expect(active.perMarkread).toMatchObject({ membershipWrites: 1, events: 1, posts: 5 });
  expect(renderSeenBy(active)).toMatch(/polled .*\n.*pushed/);
});

it('publishes nothing for a room over SeenByMaxMembers: its markread pays only the bounded size read', () => {
  const big = seenByComparison(DEFAULT_ASSUMPTIONS, PRICES, 200, 50);
  expect(big.after.postsPerSecond).toBe(0);
  expect(big.perMarkread.events).toBe(0);
  // Reading 51 entries at most, whatever the room's size.
  expect(big.perMarkread.sizeReadUnits).toBe(
    seenByComparison(DEFAULT_ASSUMPTIONS, PRICES, 51, 50).perMarkread.sizeReadUnits,
  );
});

it('a member in k rooms writes k subscriptions and k index entries per connect, and a message costs it one post whatever k', () => {
  const rows = roomsPerConnection(DEFAULT_ASSUMPTIONS, PRICES);
  expect(rows.map((r) => r.rooms)).toEqual([1, 10, 50]);
  for (const r of rows) {
    expect(r.connect.indexWrites).toBe(r.rooms + 1);
    expect(r.disconnect.indexWrites).toBe(r.rooms + 1);
    expect(r.perMessage).toEqual({ posts: 1, writes: 0 });
  }
  const [one, , fifty] = rows;
  expect(fifty?.connect.usd).toBeGreaterThan((one?.connect.usd ?? 0) * 20);
});
