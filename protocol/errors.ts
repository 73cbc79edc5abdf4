/**
 * The error codes the server answers with, and the error frame that carries one.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

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
  /**
   * Another public room has that name or one that looks like it (case, width, spaces, look-alike letters of other
   * scripts: UTS #39 skeletons): choose another, or keep it private.
   */
  'NAME_TAKEN',
  /**
   * The text holds a filtered word in any spelling the filter folds: a message or an edit, of the deployment's list
   * (FilterWords, FilterMode=refuse) or the room's own (`roomwords`); a room's name or topic, a display name or status,
   * a report's reason or a file's name, of the deployment's list (whatever FilterMode). Nothing was stored: reword it.
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
