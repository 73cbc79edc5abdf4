import type { BanItem, Room } from './ports';

export type { BanItem } from './ports';

/**
 * A room's moderation state (docs/DECISIONS.md, "Moderation state beside the room's item; the audit log sharded"),
 * each entry named by a member's key in the room (messages/changeFrames.ts memberKey: its identity salted with the
 * room; the signed-in user, else its resume token, else its connection). On the room's **moderation item**
 * (`moderationItemId`, beside the room's item in the Rooms table), top-level attributes:
 *
 * - `mod#<key>`: a moderator, the name it showed when made one;
 * - `mute#<key>`: `{until, name}`, muted until `until` (epoch seconds; MUTED_FOREVER: until unmuted);
 * - `removedNames`: the names the owner removed (≤ REMOVED_NAMES_MAX), written with the key rotation that removed them;
 * - `roomWords`: the owner's own filtered words for the room (roomwords, ≤ 50): a send or an edit holding one is
 *   refused after its take (messages/appending.ts), which reads this item anyway once the room is `moderated`;
 * - `room`: the `createdAt` of the room it belongs to: a room made again under the same code inherits none of it.
 *
 * The room's own item keeps only `slowModeSeconds` and `moderated` (true once any of the above was written): every
 * send rewrites the room's item to take its seq (DynamoDB bills a write by the whole item, 1 WCU per KB), so the
 * state it grows with stays off it. The send's take returns `moderated` (messages/dynamoSends.ts); only in a room that
 * has it does the send read the moderation item, strongly consistent, after its take: every write to the moderation
 * item sets `moderated` in the same transaction, so a mute or a removal that has answered is seen by every take after
 * it, and no send of the member whose seq was taken after the answer is stored (its seq is marked a gap).
 *
 * Top-level attributes, not maps: an UpdateItem sets or removes one whether or not the item had any before (a path
 * into a map the item lacks is a ValidationException), and a condition names one without reading the item.
 *
 * Entries of the older layout on the room's own item (`mod#`, `mute#`, `ban#`, `removedNames`) still count: the
 * take's condition refuses them at no cost, the readers merge them, and the change to a member removes its own.
 *
 * A ban is needed only where a member comes in (a join, a subscribe), never by a send (the ban's removal moves the
 * member out and refuses its name): it is an item of its own beside the room's, `banItemId`, read by key at the way
 * in, and named in the room's ban roster (`banRosterId`, `ban#<key>` = name) for unban by name. Both carry the room's
 * `createdAt`: a room made again under the same code inherits no bans.
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
/** The Rooms table key of the room's moderation item: its moderators, mutes and removed names (above). */
export const moderationItemId = (roomId: string): string => `${roomId}#moderation`;
/** The room's moderation item, as read by key. */
export type ModerationItem = Record<string, unknown> & {
  room?: string;
  removedNames?: Set<string>;
  roomWords?: string[];
};

/**
 * The room with its moderation item's entries, as the readers of roles, mutes and removed names take it: the item's
 * `mod#` and `mute#` over the room's, its removed names added to the room's, when it is this room's (its `room` is the
 * room's `createdAt`); an item of an earlier room under the same code adds nothing.
 */
export function withModeration<T extends Partial<Room>>(room: T, item: ModerationItem | undefined): T {
  if (!item || item.room === undefined || item.room !== room.createdAt) return room;
  const merged: Record<string, unknown> = { ...room };
  for (const [name, value] of Object.entries(item))
    if (name.startsWith(MOD_PREFIX) || name.startsWith(MUTE_PREFIX)) merged[name] = value;
  if (Array.isArray(item.roomWords) && item.roomWords.length > 0) merged.roomWords = item.roomWords;
  const removed = new Set([...(room.removedNames ?? []), ...(item.removedNames ?? [])]);
  if (removed.size > 0) merged.removedNames = removed;
  return merged as T;
}

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
