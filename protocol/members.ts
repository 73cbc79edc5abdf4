/**
 * Read positions, direct messages and "my rooms": what a member has read in each room, the rooms it belongs to with
 * their unread counts, and a private room for two signed-in users. docs/PROTOCOL.md ("Read positions, your rooms,
 * direct messages") explains each part; protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import type { Profile } from './directory';

/** A direct-message room's code: 12 characters of the room-code alphabet, derived from the pair's two user ids. */
export const DM_ROOM_CODE_LENGTH = 12;

export const MEMBER_PATTERNS = {
  /**
   * A signed-in member's opaque id: `user:` and 43 base64url characters (SHA-256 of the token's `iss` and `sub`).
   * Stable across the user's devices and sessions; neither `sub` nor an email can be read from it.
   */
  userId: '^user:[A-Za-z0-9_-]{43}$',
} as const;
const USER_ID = new RegExp(MEMBER_PATTERNS.userId);

export const isUserId = (value: unknown): value is string => typeof value === 'string' && USER_ID.test(value);

export const MEMBER_ACTIONS = ['markread', 'myrooms', 'opendm', 'seenby'] as const;
export type MemberAction = (typeof MEMBER_ACTIONS)[number];

/**
 * Marks the caller's current room read up to `seq`; a position never moves back. A `seq` after the room's latest
 * event is refused (BAD_REQUEST naming the latest) and nothing is stored.
 */
export interface MarkReadRequest {
  action: 'markread';
  seq: number;
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  requestId?: string;
}
/**
 * Read marks one room's watching members send together at most, per second: `markread` is one route bucket for
 * every client of the stage (500/s by default), so a room's marks are paced by its size (readIntervalFor).
 */
export const READ_MARKS_PER_ROOM_PER_SECOND = 50;

/**
 * How often a client sends a room's read position at most: `baseMs` (the client's readIntervalMs, 5 s) in a room of
 * up to 250, and longer in a bigger one, so its members together stay within READ_MARKS_PER_ROOM_PER_SECOND
 * (1,000 members: 20 s; 5,000: 100 s). docs/DECISIONS.md, "Read marks paced by the room's size".
 */
export function readIntervalFor(memberCount: number | undefined, baseMs: number): number {
  const members = Number.isFinite(memberCount) ? Math.max(0, memberCount as number) : 0;
  return Math.max(baseMs, Math.ceil((members * 1000) / READ_MARKS_PER_ROOM_PER_SECOND));
}

/** The rooms the caller belongs to, each with its unread count. */
export interface MyRoomsRequest {
  action: 'myrooms';
  requestId?: string;
}
/**
 * Opens (creates the first time) the direct-message room of the caller and another signed-in user, named by the
 * `userId` a `seenby` reply or `myrooms` gave, or by `username` as the member list of the caller's room shows it;
 * the caller enters it (reply `joined`).
 */
export interface OpenDmRequest {
  action: 'opendm';
  userId?: string;
  username?: string;
  requestId?: string;
}
/** Each member of the caller's room with its read position, in rooms up to the deployment's size for it. */
export interface SeenByRequest {
  action: 'seenby';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  requestId?: string;
}
export type MemberRequest = MarkReadRequest | MyRoomsRequest | OpenDmRequest | SeenByRequest;

/** The other member of a direct-message room. `username` is absent until its name is known. */
export interface DmPeer {
  userId: string;
  username?: string;
}

/**
 * markread's answer (with its `requestId`), and the same frame pushed without one to a signed-in person's other
 * connections when a read position of theirs moved (functions/core/identity/otherDevices.ts).
 */
export interface ReadFrame {
  type: 'read';
  roomId: string;
  /** The room's read position after the request: the higher of the one kept and the one asked. */
  lastReadSeq: number;
  requestId?: string;
}

export interface MyRoom {
  roomId: string;
  /** The invite key the member entered with: rejoin with it. Absent for direct messages and rooms without keys. */
  inviteKey?: string;
  /** The room's latest seq. */
  lastSeq: number;
  lastReadSeq: number;
  /**
   * The room's latest activity in epoch seconds, the key "Your rooms" is ordered by (latest first, ties by code): a
   * room told by `myroom` goes where this puts it. Absent for a room given without it (a `dmopened`): first.
   */
  activeAt?: number;
  /**
   * Messages from others after `lastReadSeq`: not your own, not edits, deletes or reactions, not deleted messages.
   * At most UNREAD_MAX; see `unreadMore`.
   */
  unread: number;
  /** Present when there may be more unread than `unread` says (show "99+", or "3+"): the count stopped at its bound. */
  unreadMore?: true;
  /** Of the unread messages, those that name you (`@name`); absent when none. */
  mentions?: number;
  /** Present for a direct-message room: who it is with. */
  dm?: DmPeer;
  /** The room's name (protocol/directory.ts); absent for a room never named (show its code) and for a direct message. */
  name?: string;
  /** Your notices in the room (notices.ts `setnotices`): `mentions` or `mute`; absent: `all`, the default. */
  notices?: 'mentions' | 'mute';
}

export interface MyRoomsFrame {
  type: 'myrooms';
  /** Newest activity first, at most 100. */
  rooms: MyRoom[];
  /** Present when you belong to more rooms than are listed: the less recently active are left out. */
  more?: true;
  /**
   * Your own profile (signed in, and only when you set one): a page shows it in its profile form and beside your
   * messages from its first `myrooms`, not only after you change it. Its avatar's `url` is signed as a push's is.
   */
  profile?: Profile;
  requestId?: string;
}

export interface SeenByMember {
  username: string;
  /** Present for a signed-in member: the id `opendm` takes. */
  userId?: string;
  /** The member's read position in this room; 0 when it has none. */
  lastReadSeq: number;
}

export interface SeenByFrame {
  type: 'seenby';
  roomId: string;
  memberCount: number;
  /** One entry per member; empty when the room has more members than the deployment shows read positions for. */
  members: SeenByMember[];
  /** The room is over that size: no read positions are shown. */
  tooLarge: boolean;
  requestId?: string;
}

/**
 * Sent unasked to each connected device of a signed-in user when another user opens a direct-message room with
 * them that was not in their rooms (the first open of the pair's room, or again after they left it): the room as
 * `myrooms` would list it, so it shows in their list at once.
 */
export interface DmOpenedFrame {
  type: 'dmopened';
  room: MyRoom & { dm: DmPeer };
}

/**
 * Pushed to a signed-in person's other connections when a room came into their rooms on one device (a `joinroom` or
 * `createroom` that made the membership) or went out of them (a `leaveroom` on any of the person's connections: a
 * client following it lets go with its own `leaveroom`, which tells nothing more): `room` as `myrooms` would list
 * it, or `left`. Only the person's own connections get it (functions/core/identity/otherDevices.ts); guests learn
 * it from their next `myrooms`.
 */
export interface MyRoomFrame {
  type: 'myroom';
  roomId: string;
  /** The room now in your rooms, as `myrooms` lists it (read up to its latest seq); absent with `left`. */
  room?: MyRoom;
  /** The room is no longer in your rooms. */
  left?: true;
}

/**
 * To each connected device of a signed-in member named in a message (`@name`, resolved by the server among the
 * room's members): who mentioned them, where, and the start of the message, so a device showing another room can
 * say so. The message itself reaches the room as any message does, with `mentions`.
 */
export interface MentionFrame {
  type: 'mention';
  roomId: string;
  /**
   * The room's name (protocol/directory.ts) when the message was sent, so a device that has not heard of the room
   * names it; absent for a room without one (show its code) and for a direct message.
   */
  name?: string;
  seq: number;
  /** Who wrote the message, as shown in the room. */
  username: string;
  /** The start of the message (at most 120 characters). */
  text: string;
  /** A reply in the thread of this seq: one naming you, or in a thread you follow (threads.ts). */
  threadOf?: number;
}

/**
 * Pushed to every member of a room of at most the deployment's SeenByMaxMembers when read positions there moved (a
 * member's `markread`): the members whose position moved, each with its position now. Reads that reach the fan-out
 * together arrive as one frame, one entry per member (its furthest position). A client keeps the `seenby` answer it
 * asked for when the room was shown and applies these on top: no member's position ever moves back. Larger rooms
 * get none (their `seenby` answers `tooLarge`).
 */
export interface SeenFrame {
  type: 'seen';
  roomId: string;
  members: SeenByMember[];
}

/** One member's arrival or departure, as a `presence` frame says it. */
export interface MemberChange {
  event: 'join' | 'leave';
  username: string;
  /** As the `presence` frame's: a leave the room's staff made. */
  reason?: 'removed' | 'banned';
}

/**
 * Members joined or left a room within one fan-out turn: the changes named, in the order they happened, each as a
 * `presence` frame would have said it, and those counted but not named. A lone named change still comes as a
 * `presence` frame, so a join wave of k members costs each member one post per turn, not k. A room that has held more
 * than 100 members names none: `changes` is empty and `joined`/`left` say how many (show the count move, no lines).
 */
export interface MembersChangedFrame {
  type: 'memberschanged';
  roomId: string;
  changes: MemberChange[];
  /** People who joined in the turn besides those in `changes`; absent when none. */
  joined?: number;
  /** People who left in the turn besides those in `changes`; absent when none. */
  left?: number;
}

export type MemberFrame =
  | ReadFrame
  | MyRoomsFrame
  | SeenByFrame
  | DmOpenedFrame
  | MyRoomFrame
  | MentionFrame
  | SeenFrame
  | MembersChangedFrame;
export const MEMBER_FRAME_TYPES = [
  'read',
  'myrooms',
  'seenby',
  'dmopened',
  'myroom',
  'mention',
  'seen',
  'memberschanged',
] as const;

/** The frame type that answers each action (errors aside). `opendm` is answered as a join is. */
export const MEMBER_REPLY_TYPE = {
  markread: 'read',
  myrooms: 'myrooms',
  opendm: 'joined',
  seenby: 'seenby',
} as const;

/** The highest unread count a room shows; above it, `unreadMore` says there are more ("99+"). */
export const UNREAD_MAX = 99;
