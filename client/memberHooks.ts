import type {
  AckFrame,
  AskOf,
  DmOpenedFrame,
  JoinedFrame,
  LeftFrame,
  MyRoom,
  NoticesFrame,
  ReadFrame,
} from '../protocol';
import type { RoomcastError } from './errors';
import type { MessageChanges } from './messages';
import type { Requester } from './requests';
import type { JoinAction } from './session';
import type { SendOptions } from './types';

/**
 * What the rooms a member follows (client/members.ts MemberRooms) are given by the client, and what they tell the
 * app: each hook is the one way its part reaches the connection, the session or the outbox, so the rooms never hold
 * the client itself.
 */

export interface MemberHooks {
  /** Sends a request once the client is ready, again after a reconnect that lost the answer. */
  request: Requester;
  /** Sends a join-like request through the room session (answered `joined`). */
  join(frame: AskOf<JoinAction>): Promise<JoinedFrame>;
  /** Moves the session into the room a `joined` reply names. */
  entered(joined: JoinedFrame): void;
  /** The room on screen (the connection's `roomId`). */
  roomId(): string;
  /** Sends a request now, without waiting for the client to be ready (the resume before it is). */
  requestNow?: Requester;
  /** Sends a message to `roomId` through the outbox. */
  send?(roomId: string, text: string, options: SendOptions): Promise<AckFrame>;
  /** The change sender of `roomId` (edits, deletes, reactions, pins: client/messages.ts). */
  changes?(roomId: string): MessageChanges;
  /** A typing heartbeat (or stop) in `roomId`; false when nothing was sent. */
  typing?(roomId: string, typing: boolean): boolean;
  /** Leaves the room on screen for the lobby (the session follows). */
  leaveShown?(): Promise<LeftFrame>;
  /** A lasting failure no caller waits for (rooms the server would not let this connection follow): `error`. */
  error?(error: RoomcastError): void;
}

export interface MemberEvents {
  /**
   * The member's rooms with unread counts: each `myRooms()` answer, after every connect with `trackRooms`, and
   * with a direct message someone opened added (`dm`).
   */
  rooms: MyRoom[];
  /** Someone opened a direct-message room with this user that was not in its rooms; `rooms` follows. */
  dm: DmOpenedFrame['room'];
  /**
   * Another device of this signed-in person moved its read position in a room (a pushed `read` frame): the room's
   * count is lowered already (`rooms` and the room's `unread` follow when it changed).
   */
  read: ReadFrame;
  /**
   * The member's notices in a listed room changed: its own `setNotices`, or another device of this signed-in person
   * (a pushed `notices` frame). The listed room carries them already (`rooms` follows).
   */
  notices: NoticesFrame;
}

export type DirectTarget = { userId: string } | { username: string };
