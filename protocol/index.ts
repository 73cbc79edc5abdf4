/**
 * The roomcast client protocol, defined once: the limits, the actions a client sends, the frames the server sends
 * back, and the error codes. The functions, the client library (client/), the web page, the tests, the benchmark
 * and the load scenarios all import it; protocol/asyncapi.yaml describes the same thing for clients in other
 * languages and tests/protocol/asyncapi.test.ts keeps the two equal. docs/PROTOCOL.md explains each part.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import {
  type DmPeer,
  MEMBER_ACTIONS,
  MEMBER_FRAME_TYPES,
  MEMBER_REPLY_TYPE,
  type MemberFrame,
  type MemberRequest,
} from './members';

export * from './members';

import {
  PEOPLE_ACTIONS,
  PEOPLE_FRAME_TYPES,
  PEOPLE_REPLY_TYPE,
  type PeopleFrame,
  type PeopleRequest,
} from './people';

export * from './people';

import {
  CHANGE_ACTIONS,
  CHANGE_FRAME_TYPES,
  CHANGE_REPLY_TYPE,
  type ChangeFrame,
  type ChangeMessageRequest,
  type MessageState,
  type Pin,
} from './changes';

export * from './changes';

import {
  ATTACHMENT_ACTIONS,
  ATTACHMENT_FRAME_TYPES,
  ATTACHMENT_REPLY_TYPE,
  type Attachment,
  type AttachmentFrameUnion,
  type AttachmentRequest,
} from './attachments';

export * from './attachments';

import {
  THREAD_ACTIONS,
  THREAD_FRAME_TYPES,
  THREAD_REPLY_TYPE,
  type ThreadFrame,
  type ThreadRequest,
  type ThreadSummary,
} from './threads';

export * from './threads';

import {
  type AuthorProfile,
  DIRECTORY_ACTIONS,
  DIRECTORY_FRAME_TYPES,
  DIRECTORY_REPLY_TYPE,
  type DirectoryFrame,
  type DirectoryRequest,
  type RoomInfo,
} from './directory';

export * from './directory';

import {
  SAFETY_ACTIONS,
  SAFETY_FRAME_TYPES,
  SAFETY_REPLY_TYPE,
  type SafetyFrame,
  type SafetyRequest,
} from './safety';

export * from './safety';

import {
  type JoinedModeration,
  MODERATION_ACTIONS,
  MODERATION_FRAME_TYPES,
  MODERATION_REPLY_TYPE,
  type ModerationFrame,
  type ModerationRequestFrame,
} from './moderation';

export * from './moderation';

import {
  PUSH_ACTIONS,
  PUSH_FRAME_TYPES,
  PUSH_REPLY_TYPE,
  type PushRequest,
  type PushSubscriptionFrame,
} from './push';

export * from './push';

import {
  type FoundFrame,
  SEARCH_ACTIONS,
  SEARCH_FRAME_TYPES,
  SEARCH_REPLY_TYPE,
  type SearchRequest,
} from './search';

export * from './search';

/** Limits of the client protocol. */
export const LIMITS = {
  usernameMaxChars: 32,
  messageMaxBytes: 4096,
  historyDefault: 50,
  historyMax: 100,
  clientMsgIdMaxChars: 64,
  /** A request id travels like a clientMsgId: same length and characters. */
  requestIdMaxChars: 64,
  /** Member lists are capped so a frame for a huge room stays far below the gateway's 128 KB. */
  membersListed: 200,
  /**
   * A reply carrying messages (`history`, `joined`) stops adding them before its JSON passes this many UTF-8 bytes,
   * leaving room under the gateway's 128 KB message for what is added after (`requestId`, `inviteKey`); the rest
   * follows in pages (`hasMore`).
   */
  replyMaxBytes: 120 * 1024,
  /**
   * Rooms one connection follows at once (its subscriptions, the lobby not counted): a join, create, direct message
   * or `subscribe` past it is refused TOO_MANY_ROOMS.
   */
  subscriptionsMax: 100,
} as const;

/** API Gateway WebSocket quotas the protocol lives within (AWS "Amazon API Gateway quotas" page). */
export const GATEWAY = {
  /** A connection with no traffic for this long is closed by API Gateway. */
  idleTimeoutMs: 10 * 60 * 1000,
  /** Every connection is closed after this long, busy or not. */
  maxConnectionMs: 2 * 60 * 60 * 1000,
  /** Largest WebSocket frame; a message may span frames up to `maxMessageBytes`. */
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  /** API Gateway meters messages in 32 KB increments, both directions. */
  meteringIncrementBytes: 32 * 1024,
} as const;

export const LOBBY = 'lobby';
export const ROOM_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** New rooms get codes of this length (32⁸ ≈ 1.1 × 10¹² codes). */
export const ROOM_CODE_LENGTH = 8;
/** Rooms made before codes had 8 characters keep their 6-character codes, which still join. */
export const LEGACY_ROOM_CODE_LENGTH = 6;
/** Regular-expression sources, shared with asyncapi.yaml's `pattern`s. */
export const PATTERNS = {
  /** 8 characters, 6 for an older room, 12 for a direct-message room (protocol/members.ts). */
  roomCode: '^[A-HJ-NP-Z2-9]{6}([A-HJ-NP-Z2-9]{2}|[A-HJ-NP-Z2-9]{6})?$',
  clientMsgId: '^[A-Za-z0-9._:-]+$',
  /** A room's 96-bit invite key, base64url: a join that carries it takes no guess (docs/SECURITY.md). */
  inviteKey: '^[A-Za-z0-9_-]{16}$',
  /**
   * The `resume` connect parameter: 128 random bits, base64url, that a client makes once and presents on every
   * (re)connect. It scopes its `clientMsgId`s without sign-in: only its holder knows it (docs/PROTOCOL.md).
   */
  resumeToken: '^[A-Za-z0-9_-]{22}$',
  /**
   * One character of a name after NFKC (flag `u`): letters, marks, digits (PRECIS IdentifierClass), the space and
   * ' - _ . @. Everything else is refused, so no format, invisible or space-like character stands in a name.
   */
  usernameChar: "[\\p{L}\\p{Mn}\\p{Mc}\\p{Nd} '\\-_.@]",
} as const;
const ROOM_CODE = new RegExp(PATTERNS.roomCode);
const CLIENT_MSG_ID = new RegExp(PATTERNS.clientMsgId);

/** Route keys a client may name in `action`. Anything else goes to `$default` and is answered with `info`. */
export const ACTIONS = [
  'sendmessage',
  'createroom',
  'joinroom',
  'leaveroom',
  'subscribe',
  'history',
  'who',
  'ping',
  'rotatekey',
  'removemember',
  'closeroom',
  ...MEMBER_ACTIONS,
  ...CHANGE_ACTIONS,
  ...ATTACHMENT_ACTIONS,
  ...PEOPLE_ACTIONS,
  ...THREAD_ACTIONS,
  ...DIRECTORY_ACTIONS,
  ...SAFETY_ACTIONS,
  ...MODERATION_ACTIONS,
  ...PUSH_ACTIONS,
  ...SEARCH_ACTIONS,
] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * The keepalive: a frame API Gateway answers itself (a MOCK integration with a route response, no Lambda), so a
 * client can keep an idle connection open and notice a dead one for the price of two messages.
 */
export const PING_FRAME = '{"action":"ping"}';
export const PONG_BODY = '{"type":"pong"}';

export const ERROR_CODES = [
  'BAD_REQUEST',
  'ROOM_NOT_FOUND',
  'MESSAGE_TOO_LARGE',
  'RATE_LIMITED',
  'INTERNAL',
  /**
   * A limit was met for now (the request's deadline, or DynamoDB throttling the room): nothing is lost, retry in a
   * moment; a `sendmessage` or change with the same `clientMsgId` is never stored twice.
   */
  'BUSY',
  /** The room expired (no message for RoomIdleDays) or its owner closed it: it can't be joined or posted to. */
  'ROOM_CLOSED',
  /** Only the room's owner (its creator) may do this. */
  'FORBIDDEN',
  /** No message with that seq in the room (never sent, expired, or a seq that holds a change, not a message). */
  'MESSAGE_NOT_FOUND',
  /** The message was deleted: it can't be edited or reacted to. */
  'MESSAGE_DELETED',
  /** Only the message's author may edit it (or, besides the room's owner, delete it). */
  'NOT_AUTHOR',
  /** The deployment's edit window (EditWindowMinutes) after sending has passed. */
  'EDIT_WINDOW_PASSED',
  /**
   * The frame names a room (`roomId`) the connection is not in: nothing was done, in that room or any other. Join it
   * first (or leave `roomId` out: a frame without it is about the connection's room).
   */
  'NOT_SUBSCRIBED',
  /**
   * The connection follows LIMITS.subscriptionsMax rooms already: leave one (`leaveroom` with its `roomId`) before
   * following another.
   */
  'TOO_MANY_ROOMS',
  /**
   * The invite key given is one the room had before its owner replaced it (`rotatekey`, `removemember`): forget it,
   * and ask a member for the current link. Only a key the room really had gets this answer; any other is
   * ROOM_NOT_FOUND.
   */
  'KEY_REPLACED',
  /** Another public room has that name (names fold alike: case, width and spaces): choose another, or keep it private. */
  'NAME_TAKEN',
  /**
   * The message holds a word of the deployment's filter list (FilterWords, FilterMode=refuse): nothing was stored.
   * Reword it and send again.
   */
  'FILTERED',
  /** A moderator muted you in this room: read on; sends, edits and reactions are refused until `until` (absent: until unmuted). */
  'MUTED',
  /** You are banned from this room: it can't be joined or posted to by you until a moderator unbans you. */
  'BANNED',
  /** The room is in slow mode: one message per its interval; `retryAfterSeconds` says when the next may go. */
  'SLOW_MODE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

// ---------------------------------------------------------------- client -> server

/** Every request may carry a `requestId`; the reply and any error frame echo it. */
interface Request {
  requestId?: string;
}
/**
 * A request about one room: `roomId` names any room the connection follows (NOT_SUBSCRIBED for one it does not);
 * absent, the room it shows.
 */
interface RoomRequest extends Request {
  roomId?: string;
}
export interface SendMessageRequest extends RoomRequest {
  action: 'sendmessage';
  message: string;
  clientMsgId?: string;
  /** The seq of a message in the same room this one replies to: it must be a message there, live and not deleted. */
  replyTo?: number;
  /** Images uploaded to the room (attachments.ts); with any, `message` may be empty. */
  attachments?: Attachment[];
  /**
   * A reply in the thread of this seq (threads.ts): a message of the same room, live, not deleted and not itself a
   * reply in a thread (no nesting).
   */
  threadOf?: number;
  /** With `threadOf`: the reply is shown in the room's flow too, as Slack's "Also send to channel". */
  alsoToRoom?: boolean;
}
/** A new room: with a `name` and `topic`, `public: true` lists it in the directory (a public room needs a name). */
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
export interface HistoryRequest extends RoomRequest {
  action: 'history';
  /** The first `limit` messages after this seq (catching up, filling a gap). */
  afterSeq?: number;
  /** The last `limit` messages before this seq (scrolling back); not with `afterSeq`. */
  beforeSeq?: number;
  limit?: number;
  /** A page of the thread of this seq (its replies in seq order) instead of the room's events. */
  threadOf?: number;
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
export type ClientFrame =
  | ChangeMessageRequest
  | SendMessageRequest
  | CreateRoomRequest
  | JoinRoomRequest
  | LeaveRoomRequest
  | SubscribeRequest
  | HistoryRequest
  | WhoRequest
  | PingRequest
  | RotateKeyRequest
  | RemoveMemberRequest
  | CloseRoomRequest
  | MemberRequest
  | AttachmentRequest
  | PeopleRequest
  | ThreadRequest
  | DirectoryRequest
  | SafetyRequest
  | ModerationRequestFrame
  | PushRequest
  | SearchRequest;

// ---------------------------------------------------------------- server -> client

import type { OneWayAction, TypingFrame, TypingRequest } from './typing';

/**
 * The message a reply answers: its seq and author's name as they were when the reply was sent. `history` adds how the
 * original reads now: the start of its text (`text`, at most REPLY_QUOTE_CHARS characters), or `deleted`; neither
 * when it has expired. A live frame has only `seq` and `username`: the client shows the original it holds.
 */
export interface ReplyRef {
  seq: number;
  username: string;
  text?: string;
  deleted?: boolean;
}

/** How much of a replied-to message's text `history` quotes, in characters (code points). */
export const REPLY_QUOTE_CHARS = 120;

/** A message as stored; once changed, with its final state (changes.ts, MessageState). */
export interface ChatMessage extends MessageState {
  roomId: string;
  seq: number;
  messageId: string;
  clientMsgId?: string;
  username: string;
  text: string;
  sentAt: string;
  /** The message this one replies to (`sendmessage`'s `replyTo`). */
  replyTo?: ReplyRef;
  /** The members it names (`@name`), as the server resolved them among the room's members: their names there. */
  mentions?: string[];
  /**
   * Who wrote it in this room: a key of the author's identity (signed-in user, resume token or connection) salted with
   * the room, the same on all its messages there and naming nothing else. Compare with `joined`'s `memberKey` to
   * tell your own messages: a name can be shown by someone else after you left.
   */
  authorKey?: string;
  /** Images it carries (attachments.ts): read each with `getattachment`. */
  attachments?: Attachment[];
  /** A reply in the thread of this seq (threads.ts). */
  threadOf?: number;
  /** A reply in a thread that is shown in the room's flow too (`sendmessage`'s `alsoToRoom`). */
  alsoToRoom?: boolean;
  /** A thread's root: its summary (threads.ts); absent until its first reply. */
  thread?: ThreadSummary;
}

/** Members one message may name (`@name`); later names in it are plain text. */
export const MENTIONS_PER_MESSAGE = 10;

/** Fields every reply to a request carries when the request had them. */
interface Reply {
  requestId?: string;
}

export type MessageFrame = { type: 'message' } & Omit<ChatMessage, 'clientMsgId'>;
/** What takes a seq in a room: a message, or a change to one (changes.ts). */
export type RoomEventFrame = MessageFrame | ChangeFrame;
export interface PresenceFrame {
  type: 'presence';
  roomId: string;
  event: 'join' | 'leave';
  username: string;
}
export interface BroadcastFrame {
  type: 'broadcast';
  messageId: string;
  text: string;
  sentAt: string;
  /** Present when the broadcast went to one room only. */
  roomId?: string;
}
export interface JoinedFrame extends Reply, RoomInfo, JoinedModeration {
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
export interface AckFrame extends Reply {
  type: 'ack';
  clientMsgId?: string;
  messageId: string;
  roomId: string;
  seq: number;
}
export interface HistoryFrame extends Reply {
  type: 'history';
  roomId: string;
  /** In seq order (messages and changes); fewer than asked when the next would take the reply past `replyMaxBytes`. */
  messages: RoomEventFrame[];
  /** The room has messages after the last of `messages`: ask again with `afterSeq` set to its seq. */
  hasMore: boolean;
  /**
   * On a page of the latest messages or one `beforeSeq`: older messages are kept before the first of `messages` (ask
   * again with `beforeSeq` set to its seq); false: the page starts at the room's oldest kept message.
   */
  hasOlder?: boolean;
  /** A page of this thread (`history` with `threadOf`): `messages` are its replies. */
  threadOf?: number;
  /** With `threadOf`: the thread's root as it is now. */
  root?: MessageFrame;
  /** With `threadOf`: whether you follow the thread (replied, wrote its root, or `followthread`). */
  following?: boolean;
  /**
   * The profiles (setprofile) of the page's signed-in authors that have one, by the name they show on its messages:
   * the latest authors' first, as many as fit DIRECTORY_LIMITS.historyProfileBytes.
   */
  profiles?: AuthorProfile[];
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
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  /** A sentence for people, never a stack trace. */
  message: string;
  /** The route that answered: an action, or `$default`. */
  action: string;
  /** The request this error answers, when it had one. */
  requestId?: string;
  /** The message this error answers, for `sendmessage` with a clientMsgId. */
  clientMsgId?: string;
  /** MUTED: when the mute ends (ISO 8601); absent: until unmuted. */
  until?: string;
  /** SLOW_MODE: whole seconds until the next message may go. */
  retryAfterSeconds?: number;
}
/**
 * Several messages of one busy room in one post, in seq order; each element is the `message` frame that would have
 * been sent alone. A batch never exceeds API Gateway's 32 KB frame (a message that does not fit goes alone), and
 * never holds one message: a lone message is sent as a plain `message` frame.
 */
export interface BatchFrame {
  type: 'batch';
  roomId: string;
  messages: RoomEventFrame[];
}
/**
 * The reply to each change action (`editmessage`, `deletemessage`, `react`: CHANGE_ACTIONS): the seq the change took (absent when there was nothing to
 * change: the reaction was already as asked, the message already deleted) and the message's state after it.
 */
export interface ChangedFrame extends Reply {
  type: 'changed';
  roomId: string;
  seq?: number;
  clientMsgId?: string;
  message: MessageFrame;
}
/**
 * Messages of the room after `afterSeq` may not have reached this connection (its posts failed for longer than the
 * fan-out's retry budget): fetch them with `history` (`afterSeq`). Sent as soon as a post to the connection succeeds.
 */
export interface ResyncFrame {
  type: 'resync';
  roomId: string;
  afterSeq: number;
}
export type ServerFrame =
  | MessageFrame
  | PresenceFrame
  | BroadcastFrame
  | JoinedFrame
  | LeftFrame
  | SubscribedFrame
  | AckFrame
  | HistoryFrame
  | MembersFrame
  | InfoFrame
  | PongFrame
  | KeyRotatedFrame
  | MemberRemovedFrame
  | RemovedFrame
  | RoomClosedFrame
  | ErrorFrame
  | BatchFrame
  | ResyncFrame
  | TypingFrame
  | MemberFrame
  | ChangedFrame
  | ChangeFrame
  | AttachmentFrameUnion
  | PeopleFrame
  | ThreadFrame
  | DirectoryFrame
  | SafetyFrame
  | ModerationFrame
  | PushSubscriptionFrame
  | FoundFrame;
export type ServerFrameType = ServerFrame['type'];
export const SERVER_FRAME_TYPES = [
  'message',
  'presence',
  'broadcast',
  'joined',
  'left',
  'subscribed',
  'ack',
  'history',
  'members',
  'info',
  'pong',
  'keyrotated',
  'memberremoved',
  'removed',
  'roomclosed',
  'error',
  'batch',
  'resync',
  'typing',
  ...MEMBER_FRAME_TYPES,
  'changed',
  ...CHANGE_FRAME_TYPES,
  ...ATTACHMENT_FRAME_TYPES,
  ...PEOPLE_FRAME_TYPES,
  ...THREAD_FRAME_TYPES,
  ...DIRECTORY_FRAME_TYPES,
  ...SAFETY_FRAME_TYPES,
  ...MODERATION_FRAME_TYPES,
  ...PUSH_FRAME_TYPES,
  ...SEARCH_FRAME_TYPES,
] as const satisfies readonly ServerFrameType[];

/** The frame type that answers each action (errors aside). */
export const REPLY_TYPE = {
  sendmessage: 'ack',
  createroom: 'joined',
  joinroom: 'joined',
  leaveroom: 'left',
  subscribe: 'subscribed',
  history: 'history',
  who: 'members',
  ping: 'pong',
  rotatekey: 'keyrotated',
  removemember: 'memberremoved',
  closeroom: 'roomclosed',
  ...MEMBER_REPLY_TYPE,
  ...CHANGE_REPLY_TYPE,
  ...ATTACHMENT_REPLY_TYPE,
  ...PEOPLE_REPLY_TYPE,
  ...THREAD_REPLY_TYPE,
  ...DIRECTORY_REPLY_TYPE,
  ...SAFETY_REPLY_TYPE,
  ...MODERATION_REPLY_TYPE,
  ...PUSH_REPLY_TYPE,
  ...SEARCH_REPLY_TYPE,
} as const satisfies Record<Action, ServerFrameType>;

// ---------------------------------------------------------------- checks shared by server and client

export function isRoomCode(value: string): boolean {
  return ROOM_CODE.test(value);
}

/** A room id as a client may write it (lower case accepted), normalised; undefined when it is not one. */
export function normalizeRoomId(value: string): string | undefined {
  const roomId = value.trim();
  if (roomId === LOBBY) return LOBBY;
  const code = roomId.toUpperCase();
  return isRoomCode(code) ? code : undefined;
}

/** True for a clientMsgId or requestId the server accepts. */
export function isRequestToken(
  value: unknown,
  maxChars: number = LIMITS.clientMsgIdMaxChars,
): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= maxChars && CLIENT_MSG_ID.test(value)
  );
}

const encoder = new TextEncoder();
/** UTF-8 length, the unit of the message limit; works without Node's Buffer. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

export * from './typing';

// Routes' request and reply types.

/**
 * Each action's request and reply frame, derived from the protocol's own unions: `RequestOf<'pinmessage'>` is
 * PinMessageRequest (the member of the client frames whose `action` is it) and `ReplyOf<'pinmessage'>` is
 * ChangedFrame (the server frame whose `type` REPLY_TYPE names for it). A route's handler (functions/core/websocket.ts
 * routeHandler) and the client library's requests (client/requests.ts) are typed by these, so a handler reading a
 * field its request does not have, or answering another frame than its reply, fails `tsc`, as does a client sending
 * such a request or reading such a reply.
 */
/** Every frame a client sends: the requests answered by a reply, and the one-way ones. */
export type AnyRequest = ClientFrame | TypingRequest;

/** The request frame of an action, as protocol/ declares it. */
export type RequestOf<A extends Action | OneWayAction> = Extract<AnyRequest, { action: A }>;

/** The frame that answers an action (errors aside): the server frame of the type REPLY_TYPE names. */
export type ReplyOf<A extends Action> = Extract<ServerFrame, { type: (typeof REPLY_TYPE)[A] }>;

/** The actions a frame type answers: `AnsweredBy<'joined'>` is `createroom`, `joinroom` and `opendm`. */
export type AnsweredBy<T extends ServerFrameType> = {
  [A in Action]: (typeof REPLY_TYPE)[A] extends T ? A : never;
}[Action];

/**
 * A request as a client hands it to be sent: without `requestId`, which the sender adds. Spread over a union of
 * actions, so `AskOf<ChangeAction>` is one of the four change requests.
 */
export type AskOf<A extends Action> = A extends Action ? Omit<RequestOf<A>, 'requestId'> : never;

/** The actions with no request frame in protocol/, and those whose reply type names no server frame: none. */
type WithoutRequest = { [A in Action | OneWayAction]: [RequestOf<A>] extends [never] ? A : never }[
  | Action
  | OneWayAction];
type WithoutReply = { [A in Action]: [ReplyOf<A>] extends [never] ? A : never }[Action];
/** True when every action has its request and reply; tsc names the actions without them otherwise. */
export type ProtocolComplete = [WithoutRequest | WithoutReply] extends [never]
  ? true
  : { missing: WithoutRequest | WithoutReply };
export const PROTOCOL_COMPLETE: ProtocolComplete = true;
