import type { BanItem, Room } from './ports';

export type { BanItem } from './ports';

/**
 * A room's moderation state, as top-level attributes of the room's item (docs/DECISIONS.md, "Moderation on the room's
 * item"), each named by a member's key in the room (messages/changeFrames.ts memberKey: its identity salted with the
 * room; the signed-in user, else its resume token, else its connection):
 *
 * - `mod#<key>`: a moderator, the name it showed when made one;
 * - `mute#<key>`: `{until, name}`, muted until `until` (epoch seconds; MUTED_FOREVER: until unmuted);
 * - `ban#<key>`: `{name, at}`, a ban written before bans had items of their own: still refused, removed by unban;
 * - `slowModeSeconds`: one message per that many seconds per member (owner and moderators exempt).
 *
 * Top-level attributes, not maps: an UpdateItem sets or removes one whether or not the room had any before (a path
 * into a map the item lacks is a ValidationException), and a condition names one without reading the room. The send
 * path's seq-taking write (messages/roomEvents.ts) holds the mute in its condition, on the same item the mute is
 * written to: once a mute has answered, no send of the member takes a seq.
 *
 * A ban is needed only where a member comes in (a join, a subscribe), never by a send (the ban's removal moves the
 * member out and refuses its name on the room's item): it is an item of its own beside the room's, `banItemId`, read
 * by key at the way in, and named in the room's ban roster (`banRosterId`, `ban#<key>` = name) for unban by name. Both
 * carry the room's `createdAt`: a room made again under the same code inherits no bans.
 */

export const MOD_PREFIX = 'mod#';
export const MUTE_PREFIX = 'mute#';
export const BAN_PREFIX = 'ban#';
/** The `until` of a mute without an end (year 9999): larger than any `now`, so one condition covers both. */
export const MUTED_FOREVER = 253_402_300_799;

interface MuteEntry {
  until: number;
  name: string;
}
interface BanEntry {
  name: string;
  at: string;
}

/** The Rooms table key of the ban of `key` in the room (one item per ban, read by key at each way in). */
export const banItemId = (roomId: string, key: string): string => `${roomId}#ban#${key}`;
/** The Rooms table key of the room's ban roster: `ban#<key>` = `{name, room}`, read only by unban. */
export const banRosterId = (roomId: string): string => `${roomId}#bans`;

export interface RoomModeration {
  moderators: Map<string, string>;
  muted: Map<string, MuteEntry>;
  banned: Map<string, BanEntry>;
  slowModeSeconds: number;
}

/** The moderation attributes of a room's item as read (GetItem gives every attribute). */
export function moderationOf(room: Room | undefined): RoomModeration {
  const found: RoomModeration = {
    moderators: new Map(),
    muted: new Map(),
    banned: new Map(),
    slowModeSeconds: Number(room?.slowModeSeconds ?? 0),
  };
  for (const [name, value] of Object.entries(room ?? {})) {
    if (name.startsWith(MOD_PREFIX)) found.moderators.set(name.slice(MOD_PREFIX.length), String(value));
    else if (name.startsWith(MUTE_PREFIX))
      found.muted.set(name.slice(MUTE_PREFIX.length), value as MuteEntry);
    else if (name.startsWith(BAN_PREFIX)) found.banned.set(name.slice(BAN_PREFIX.length), value as BanEntry);
  }
  return found;
}

/**
 * A member's role: the room's owner by user id or by its key in the room (`ownerKey`: without sign-in, its resume
 * token's, so a reconnect keeps it), a moderator by its key in the room.
 */
export function roleIn(
  room: Room | undefined,
  member: { userId?: string; key: string },
): 'owner' | 'moderator' | 'member' {
  if (room?.ownerId !== undefined && room.ownerId === member.userId) return 'owner';
  if (room?.ownerKey !== undefined && room.ownerKey === member.key) return 'owner';
  if (room && (room as unknown as Record<string, unknown>)[`${MOD_PREFIX}${member.key}`] !== undefined)
    return 'moderator';
  return 'member';
}

/** Until when (epoch seconds) the member is muted at `nowSeconds`; undefined when it is not. */
export function mutedUntil(room: Room | undefined, key: string, nowSeconds: number): number | undefined {
  const entry = (room as unknown as Record<string, MuteEntry | undefined> | undefined)?.[
    `${MUTE_PREFIX}${key}`
  ];
  return entry !== undefined && Number(entry.until) > nowSeconds ? Number(entry.until) : undefined;
}

/** A mute's end as frames say it: ISO 8601, or undefined for a mute until unmuted. */
export const untilText = (until: number): string | undefined =>
  until >= MUTED_FOREVER ? undefined : new Date(until * 1000).toISOString();

/** A ban written on the room's own item (before bans had items of their own). */
function isBanned(room: Room | undefined, key: string): boolean {
  return (room as unknown as Record<string, unknown> | undefined)?.[`${BAN_PREFIX}${key}`] !== undefined;
}

/** Whether a member is banned from `room`: by its ban item (RoomStore.banOf, read beside the room), or on the room. */
export function bannedBy(room: Room, key: string, ban: BanItem | undefined): boolean {
  return isBanned(room, key) || ban?.roomCreatedAt === room.createdAt;
}
