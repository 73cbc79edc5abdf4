import { DEFAULT_ASSUMPTIONS } from '../../tools/cost/model';
import { MODERATION_ROOM_SIZES, moderationCosts, renderModerationCosts } from '../../tools/cost/moderation';

/** `npm run cost` prices moderation: each action, and slow mode's work on a member's message. */

it('prices each moderation action at rooms of 10, 100 and 1,000, and slow mode per message', () => {
  const rows = moderationCosts(DEFAULT_ASSUMPTIONS);
  const by = Object.fromEntries(rows.map((row) => [row.action, row]));
  for (const row of rows) expect(row.usdPerMillion).toHaveLength(MODERATION_ROOM_SIZES.length);
  // A role or slow-mode change is posted to every member: $1 per million posts dominates as the room grows.
  const role = by['setrole or slowmode']?.usdPerMillion as number[];
  expect((role[2] as number) - (role[1] as number)).toBeGreaterThan(850);
  // A mute is posted to its member only: the room's size adds only the member list's read.
  const mute = by['mute or unmute']?.usdPerMillion as number[];
  expect((mute[2] as number) - (mute[0] as number)).toBeLessThan(2);
  expect(by['mute or unmute']?.writeUnits).toBe(3);
  // A ban rotates the key with every gate, in a transaction: two units per item, ~100 in all.
  expect(by.ban?.writeUnits).toBeGreaterThan(96);
  // Slow mode's turn: one write unit on a message taken ($0.625 per million), three on one refused.
  expect(by['slow mode: a message taken']?.usdPerMillion[0]).toBeCloseTo(0.625, 3);
  expect(by['slow mode: a message refused']?.writeUnits).toBe(3);
  expect(
    renderModerationCosts(rows)
      .split('\n')
      .filter((line) => line.includes('$')),
  ).toHaveLength(5);
});
