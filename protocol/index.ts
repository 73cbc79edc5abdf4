/**
 * The roomcast client protocol, defined once: the limits, the actions a client sends, the frames the server sends
 * back, and the error codes. Each concern is a module of its own (limits.ts, errors.ts, rooms.ts, messages.ts and one
 * per feature); this one re-exports them all and joins their actions, requests, frames and replies into ACTIONS,
 * ClientFrame, ServerFrame and REPLY_TYPE, from which each route's types derive. The functions, the client library (client/), the web page, the tests, the benchmark
 * and the load scenarios all import it; protocol/asyncapi.yaml describes the same thing for clients in other
 * languages and tests/protocol/asyncapi.test.ts keeps the two equal. docs/PROTOCOL.md explains each part.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import {
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
} from './changes';

export * from './changes';

import {
  ATTACHMENT_ACTIONS,
  ATTACHMENT_FRAME_TYPES,
  ATTACHMENT_REPLY_TYPE,
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
} from './threads';

export * from './threads';

import {
  DIRECTORY_ACTIONS,
  DIRECTORY_FRAME_TYPES,
  DIRECTORY_REPLY_TYPE,
  type DirectoryFrame,
  type DirectoryRequest,
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
  NOTICES_ACTIONS,
  NOTICES_FRAME_TYPES,
  NOTICES_REPLY_TYPE,
  type NoticesFrame,
  type NoticesRequest,
} from './notices';
import {
  type FoundFrame,
  SEARCH_ACTIONS,
  SEARCH_FRAME_TYPES,
  SEARCH_REPLY_TYPE,
  type SearchRequest,
} from './search';

export * from './errors';
export * from './limits';
export * from './notices';
export * from './search';

import type {
  AckFrame,
  BatchFrame,
  ChangedFrame,
  HistoryFrame,
  HistoryRequest,
  MessageFrame,
  ResyncFrame,
  SendMessageRequest,
} from './messages';

export * from './messages';

import type {
  BroadcastFrame,
  CloseRoomRequest,
  CreateRoomRequest,
  InfoFrame,
  JoinedFrame,
  JoinRoomRequest,
  KeyRotatedFrame,
  LeaveRoomRequest,
  LeftFrame,
  MemberRemovedFrame,
  MembersFrame,
  PingRequest,
  PongFrame,
  PresenceFrame,
  RemovedFrame,
  RemoveMemberRequest,
  RoomClosedFrame,
  RotateKeyRequest,
  SubscribedFrame,
  SubscribeRequest,
  WhoRequest,
} from './rooms';

export * from './rooms';

import type { ErrorFrame } from './errors';
import type { OneWayAction, TypingFrame, TypingRequest } from './typing';

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
  ...NOTICES_ACTIONS,
] as const;
export type Action = (typeof ACTIONS)[number];

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
  | SearchRequest
  | NoticesRequest;

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
  | FoundFrame
  | NoticesFrame;
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
  ...NOTICES_FRAME_TYPES,
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
  ...NOTICES_REPLY_TYPE,
} as const satisfies Record<Action, ServerFrameType>;

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
