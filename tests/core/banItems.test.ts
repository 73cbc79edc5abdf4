import { BAN_PREFIX, bannedBy } from '#core/moderation';
import type { Room } from '#core/ports';

/**
 * Who a ban bars at a way in (core/moderation.ts bannedBy): the ban's own item, read by key beside the room, and only
 * for the room it was written in; a ban an older room kept on its own item still bars.
 */
const room: Room = { roomId: 'ROOMCODE', createdAt: '2026-11-27T10:00:00.000Z', seq: 0 };

it("a ban item written in this room bars its member, and no one else's key", () => {
  expect(bannedBy(room, 'member-a', { roomCreatedAt: room.createdAt })).toBe(true);
  expect(bannedBy(room, 'member-b', undefined)).toBe(false);
});

it('a ban item left by an earlier room under the same code bars no one in the room made again', () => {
  expect(bannedBy(room, 'member-a', { roomCreatedAt: '2026-10-01T08:00:00.000Z' })).toBe(false);
});

it("a ban on the room's own item (an older room's layout) still bars, with no ban item", () => {
  const older = { ...room, [`${BAN_PREFIX}member-a`]: { name: 'ann', at: room.createdAt } } as Room;
  expect(bannedBy(older, 'member-a', undefined)).toBe(true);
  expect(bannedBy(older, 'member-b', undefined)).toBe(false);
});
