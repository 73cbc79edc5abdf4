/** roomcast's client library: one import for browsers (bundled into dist/web/roomcast.js) and Node. */
export * from '../protocol';
export type { BackoffPolicy } from './backoff';
export { DEFAULT_BACKOFF, fullJitterDelay } from './backoff';
export type { MemberDelivery } from './deliveryAudit';
export { auditDelivery } from './deliveryAudit';
export type { ClientErrorCode, RoomcastErrorCode } from './errors';
export { RoomcastError } from './errors';
export type { DirectTarget, MemberRooms, RoomToFollow } from './members';
export { HISTORY_PACE_MS } from './members';
export type { ChangeSender, MessageSource } from './messages';
export { MessageChanges, RoomMessages } from './messages';
export type { RoomEvents, RoomUnread, SeenFrame } from './room';
export { Room } from './room';
export { checkMessageText, checkRoomId, createRoomcastClient, RoomcastClient } from './roomcast';
export type { SafetySender } from './safety';
export { Safety } from './safety';
export { Sequencer, SKIPPED_KEPT } from './sequencer';
export { INDEX_LAG_MS } from './session';
export type {
  Closed,
  ConnectionState,
  Handed,
  MembersUpdate,
  ModerationNotice,
  ReceivedFrame,
  RoomcastClientOptions,
  RoomcastEvents,
  SocketFactory,
  SocketLike,
  StateChange,
  UnknownFrame,
} from './types';
export type { TypingUpdate } from './typing';
export { DEFAULT_TYPING_HEARTBEAT_MS, Typing } from './typing';
