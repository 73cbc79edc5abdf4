import type { RoomEnd } from './errors';
import type { Room } from './ports';

/**
 * A room's life: it ends RoomIdleDays after its last message (or its creation), or when its owner closes it.
 * DynamoDB's TTL deletes an ended room's item late (within days, and DynamoDB Local not dependably), so every use
 * case asks `roomEnd` instead of relying on the item being gone.
 */

export const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** The room's end (epoch seconds) when it is active at `now`: RoomIdleDays later. */
export const roomTtl = (now: Date, roomIdleDays: number) =>
  epochSeconds(now) + Math.round(roomIdleDays * 86400);

/** The room's latest activity (epoch seconds) its end says: `roomTtl` undone, the key "Your rooms" is ordered by. */
export const roomActiveAt = (ttl: number, roomIdleDays: number) => ttl - Math.round(roomIdleDays * 86400);

/** Why the room can't be used at `now`, or undefined while it can. */
export function roomEnd(room: Pick<Room, 'ttl' | 'closedAt'>, now: Date): RoomEnd | undefined {
  if (room.closedAt !== undefined) return 'closed';
  if (room.ttl !== undefined && room.ttl <= epochSeconds(now)) return 'expired';
  return undefined;
}
