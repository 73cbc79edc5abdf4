/**
 * A room and the connection in it: creating, joining, leaving and following rooms (`subscribe`), who is in one, the
 * owner's key rotation, removal and closing, the keepalive and the connection's info, and the frames that answer them.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import type { Pin } from './changes';
import type { RoomInfo } from './directory';
import type { Reply, Request, RoomRequest } from './envelope';
import type { ErrorCode } from './errors';
import type { DmPeer } from './members';
import type { Gaps, RoomEventFrame } from './messages';
import type { JoinedModeration } from './moderation';

// ---------------------------------------------------------------- client -> server

export interface CreateRoomRequest extends Request, RoomInfo {
  action: 'createroom';
}
export interface JoinRoomRequest extends Request {
  action: 'joinroom';
  roomId: string;
  /** The room's invite key, from the link its creator shared; a wrong one is answered ROOM_NOT_FOUND. */
  key?: string;
}
export interface LeaveRoomRequest extends Request {
  action: 'leaveroom';
  /** A room you follow but do not show: you stop following it only. Absent: leave the room you show for the lobby. */
  roomId?: string;
}
/** One room of a `subscribe` frame: its code, its invite key when it has one, and the last seq you have of it. */
export interface SubscribeRoom {
  roomId: string;
  /** The room's invite key, as `joinroom` takes it. */
  key?: string;
  /** The room's events after this seq come back in the reply (`SubscribedRoom.events`); absent: none. */
  afterSeq?: number;
}
/**
 * Follows many rooms in one frame (a reconnect, a fresh page load) without showing any of them: each room is admitted
 * as `joinroom` would admit it, and one refused does not refuse the others (`SubscribedFrame.refused`). At most
 * LIMITS.subscriptionsMax rooms, each once; the lobby is never followed this way.
 */
export interface SubscribeRequest extends Request {
  action: 'subscribe';
  rooms: SubscribeRoom[];
}
export interface WhoRequest extends RoomRequest {
  action: 'who';
}
export interface PingRequest {
  action: 'ping';
}
/** Owner only: the room the caller is in gets a new invite key; the old one stops working (docs/SECURITY.md). */
export interface RotateKeyRequest extends RoomRequest {
  action: 'rotatekey';
}
/**
 * Owner only: every connection showing `username` in the caller's room is moved to the lobby and told `removed`;
 * the invite key is rotated so the removed member can't come back with the link it had.
 */
export interface RemoveMemberRequest extends RoomRequest {
  action: 'removemember';
  username: string;
}
/** Owner only: every member is told `roomclosed` and moved to the lobby; the room can't be joined or posted to again. */
export interface CloseRoomRequest extends RoomRequest {
  action: 'closeroom';
}

// ---------------------------------------------------------------- server -> client

export interface PresenceFrame {
  type: 'presence';
  roomId: string;
  event: 'join' | 'leave';
  username: string;
  /** A leave the room's staff made: the member was removed (`removemember`) or banned (`ban`). */
  reason?: LeaveReason;
}
/** Why a member left, when it did not leave itself. */
export type LeaveReason = 'removed' | 'banned';
export interface BroadcastFrame {
  type: 'broadcast';
  messageId: string;
  text: string;
  sentAt: string;
  /** Present when the broadcast went to one room only. */
  roomId?: string;
}
/**
 * `gaps`: the seqs given up (Gaps) from the backlog's first event up to `lastSeq`, so a joiner neither waits for them
 * nor asks `history` about them.
 */
export interface JoinedFrame extends Reply, RoomInfo, JoinedModeration, Gaps {
  type: 'joined';
  roomId: string;
  members: string[];
  memberCount: number;
  /** The room's latest events, oldest first, as many of the latest `historyDefault` as fit `replyMaxBytes`. */
  history: RoomEventFrame[];
  /** More messages follow the last of `history`: fetch them with `history` after its seq. */
  hasMore: boolean;
  lastSeq: number;
  /** The room's invite key, to share with its code; absent for the lobby and rooms made before invite keys. */
  inviteKey?: string;
  /** A direct-message room (`opendm`): who it is with. */
  dm?: DmPeer;
  /** Your key in this room: messages whose `authorKey` is this are yours, whatever name they show. */
  memberKey?: string;
  /** The room's pinned messages, oldest pin first (at most CHANGE_LIMITS.pinsPerRoom); absent in the lobby. */
  pins?: Pin[];
}
export interface LeftFrame extends Reply {
  type: 'left';
  roomId: string;
}
/** A room `subscribe` follows now (or followed already), as it stands. */
export interface SubscribedRoom {
  roomId: string;
  /** The room's latest seq when it was read after the subscription was written. */
  lastSeq: number;
  /** Connections in the room; only for a room newly followed (one followed already costs no count of its members). */
  memberCount?: number;
  /** Your key in this room: messages whose `authorKey` is this are yours. */
  memberKey?: string;
  /** A direct-message room: who it is with. */
  dm?: DmPeer;
  /**
   * The room's events after the `afterSeq` you gave, oldest first, as many as fit the reply (`replyMaxBytes`, shared
   * by all the rooms of the frame); [] without `afterSeq`.
   */
  events: RoomEventFrame[];
  /** Events after the last of `events` exist: fetch them with `history` (`roomId`, `afterSeq`). */
  hasMore: boolean;
}
/** A room of a `subscribe` frame that was not followed, with the code `joinroom` would have answered. */
export interface SubscribeRefusal {
  roomId: string;
  code: ErrorCode;
  message: string;
}
/** The reply to `subscribe`: the rooms followed, and those refused. The room you show does not change. */
export interface SubscribedFrame extends Reply {
  type: 'subscribed';
  rooms: SubscribedRoom[];
  refused: SubscribeRefusal[];
}
export interface MembersFrame extends Reply {
  type: 'members';
  roomId: string;
  members: string[];
  memberCount: number;
  /** The names of the room's moderators (moderation.ts); absent in the lobby. */
  moderators?: string[];
}
export interface InfoFrame extends Reply {
  type: 'info';
  connectionId: string;
  username?: string;
  roomId?: string;
  connectedAt?: string | number;
  sourceIp?: string;
  userAgent?: string;
  lastActiveAt?: string | number;
  usage: string;
}
export interface PongFrame {
  type: 'pong';
}
/**
 * The room's new invite key: the reply to `rotatekey`, and pushed to every other member of the room so its own
 * rejoin after a reconnect keeps working. A join with the old key is refused from now on.
 */
export interface KeyRotatedFrame extends Reply {
  type: 'keyrotated';
  roomId: string;
  inviteKey: string;
}
/** The reply to `removemember`: how many connections were moved out, and the room's new invite key. */
export interface MemberRemovedFrame extends Reply {
  type: 'memberremoved';
  roomId: string;
  username: string;
  removed: number;
  inviteKey: string;
}
/** Pushed to a member its room's owner removed: the connection is in the lobby now. */
export interface RemovedFrame {
  type: 'removed';
  roomId: string;
  message: string;
}
/** The room was closed by its owner: pushed to every member (all now in the lobby), and the reply to `closeroom`. */
export interface RoomClosedFrame extends Reply {
  type: 'roomclosed';
  roomId: string;
  message: string;
}
