import type { ErrorCode } from '../protocol';

/**
 * What can go wrong, as codes an app can switch on. The server's codes (protocol/) come from error frames; the
 * client's own say what it refused or gave up on before or instead of an answer.
 */
export type ClientErrorCode =
  /** An argument the server would refuse anyway (malformed room code, empty text); nothing was sent. */
  | 'INVALID_ARGUMENT'
  /** No answer within `requestTimeoutMs` (after every retry, for a send). */
  | 'TIMEOUT'
  /** The offline outbox holds `outboxLimit` messages already. */
  | 'OUTBOX_FULL'
  /** The socket closed while the request waited for its answer; the client reconnects by itself. */
  | 'DISCONNECTED'
  /** The message was written in a room the client has left since. */
  | 'ROOM_CHANGED'
  /** `close()` was called. */
  | 'CLOSED'
  /** The handshake was refused (HTTP status in `status`, and with `ws` the answer's `body`): a bad username or token. */
  | 'HANDSHAKE_REFUSED'
  /** `maxAttempts` reconnects in a row failed; `retry()` starts again. */
  | 'GAVE_UP'
  /** API Gateway's own `{"message": "Internal server error", ...}` frame (a route's function failed). */
  | 'GATEWAY_ERROR';

export type RoomcastErrorCode = ErrorCode | ClientErrorCode;

export class RoomcastError extends Error {
  constructor(
    readonly code: RoomcastErrorCode,
    message: string,
    readonly details: {
      action?: string;
      requestId?: string;
      clientMsgId?: string;
      /** HANDSHAKE_REFUSED: the HTTP status of the refusal. */
      status?: number;
      /** HANDSHAKE_REFUSED, with `ws`: the refusal's body (its first 4,096 characters). */
      body?: string;
      /** MUTED: when the mute ends (ISO 8601); absent: until a moderator unmutes. */
      until?: string;
      /** SLOW_MODE: whole seconds before the room takes this member's next message. */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message);
    this.name = 'RoomcastError';
  }
}
