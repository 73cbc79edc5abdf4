import { memberCosts, renderMemberCosts } from '../../cost/members';
import { DEFAULT_ASSUMPTIONS } from '../../cost/model';
import { PRICES } from '../../cost/prices';

/** The cost of read positions, rooms and direct messages at rooms of 10, 100 and 1,000 members (cost/members.ts). */
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
