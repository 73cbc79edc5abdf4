import { memberCosts, myroomsOf100, renderMemberCosts, unreadQueryUnits } from '../../tools/cost/members';
import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { PRICES } from '../../tools/cost/prices';

/** The cost of read positions, rooms and direct messages at rooms of 10, 100 and 1,000 members (tools/cost/members.ts). */
const rows = memberCosts(DEFAULT_ASSUMPTIONS, PRICES, 50);

it('prices each request at least its two API Gateway messages and one Lambda request', () => {
  // $1 per million messages each way and $0.20 per million invocations, before DynamoDB and duration.
  for (const row of rows) {
    for (const usd of [row.markreadUsdPerMillion, row.myroomsUsdPerMillion, row.opendmUsdPerMillion])
      expect(usd).toBeGreaterThan(2.2);
  }
});

it('grows the per-message cost of read positions with the room, and nothing else with it but seenby', () => {
  expect(rows.map((r) => r.roomSize)).toEqual([10, 100, 1000]);
  const [ten, hundred, thousand] = rows;
  expect(hundred?.readsPerMessageUsdPerMillion).toBeCloseTo((ten?.readsPerMessageUsdPerMillion ?? 0) * 10);
  expect(thousand?.readsPerMessageUsdPerMillion).toBeCloseTo((ten?.readsPerMessageUsdPerMillion ?? 0) * 100);
  expect(new Set(rows.map((r) => r.markreadUsdPerMillion)).size).toBe(1);
  expect(new Set(rows.map((r) => r.opendmUsdPerMillion)).size).toBe(1);
});

it('shows read positions only up to SeenByMaxMembers: larger rooms are answered tooLarge, without the batch reads', () => {
  expect(rows.map((r) => r.seenbyShown)).toEqual([true, false, false]);
  const wide = memberCosts(DEFAULT_ASSUMPTIONS, PRICES, 1000);
  expect(wide[2]?.seenbyUsdPerMillion).toBeGreaterThan((rows[2]?.seenbyUsdPerMillion ?? 0) + 100);
  expect(renderMemberCosts(rows, 50)).toMatch(/1000 .*\(tooLarge\)/);
});

it("prices a direct message's first open with its notice: a keys-only Query and a post to each of the other's devices", () => {
  for (const row of rows) {
    // Two devices at $1 per million messages, and half a read unit: the notice, per DM opened, not per message.
    expect(row.opendmFirstUsdPerMillion - row.opendmUsdPerMillion).toBeGreaterThan(2);
    expect(row.opendmFirstUsdPerMillion - row.opendmUsdPerMillion).toBeLessThan(2.1);
  }
  expect(renderMemberCosts(rows, 50)).toMatch(/opendm, first/);
});

it('prices myrooms of a member of 100 rooms by what its unread counts read: nothing for a room read, one bounded Query per room behind', () => {
  const of100 = myroomsOf100(DEFAULT_ASSUMPTIONS);
  // Connection 0.5, 100 memberships of 150 B (15 KB: 2 units), 100 rooms at half a unit each.
  expect(of100.allRead).toBe(52.5);
  // A few events behind: each room's Query stays under 4 KB, half a unit.
  expect(of100.fewEach).toBe(52.5 + 100 * 0.5);
  // 100 or more behind: each Query reads at most 100 events of 400 B (40 KB: 5 units), never more however far behind.
  expect(of100.fullEach).toBe(52.5 + 100 * 5);
  expect(unreadQueryUnits(DEFAULT_ASSUMPTIONS, 10_000)).toBe(unreadQueryUnits(DEFAULT_ASSUMPTIONS, 100));
  expect(renderMemberCosts(rows, 50, DEFAULT_ASSUMPTIONS)).toMatch(/myrooms of a member of 100 rooms: 52.5/);
});
