import { cancellationCodes } from '#platform/aws/conditions';
import { isTransactionConflict } from '#platform/aws/conflicts';
import type { ErrorCode, ErrorFrame } from '#protocol';

/** Error codes and the error frame are defined in protocol/ (docs/PROTOCOL.md, "Limits and errors"). */
export type { ErrorCode, ErrorFrame } from '#protocol';

/** Codes only the REST side answers with (the WebSocket protocol has no content types). */
type HttpOnlyCode = 'UNSUPPORTED_MEDIA_TYPE';

/**
 * The one error type of roomcast: what the caller is told (a code, an HTTP status and a short sentence, never a
 * stack trace) and whose fault it was. `message` is for the logs; `publicMessage` for the client. Every handler
 * turns any error into a frame or an HTTP reply with `describeError`, so a new error is a new subclass here.
 */
export class ChatError extends Error {
  readonly publicMessage: string;
  /** `client`: the request was wrong (logged at info, counted as rejected); `server`: ours (logged as an error). */
  readonly fault: 'client' | 'server';
  /**
   * Whether this refusal is a strike on its connection (guard.ts), when the error itself decides it; undefined: its
   * code and route decide (guard.ts, STRIKE_CODES).
   */
  readonly strike?: boolean;
  /** Fields the error frame carries besides code and sentence (MUTED's `until`, SLOW_MODE's `retryAfterSeconds`). */
  readonly details?: Pick<ErrorFrame, 'until' | 'retryAfterSeconds'>;

  constructor(
    readonly code: ErrorCode | HttpOnlyCode,
    readonly status: number,
    message: string,
    options: { publicMessage?: string; fault?: 'client' | 'server'; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Named here and in each subclass, not from the constructor: bundles are minified, and logs name the error.
    this.name = 'ChatError';
    this.publicMessage = options.publicMessage ?? message;
    this.fault = options.fault ?? 'client';
  }
}

/**
 * The base of an error whose sentence the thrower words, with a fixed code and status; `name` is given here, not
 * taken from the class, for the same reason as ChatError's.
 */
function worded(name: string, code: ErrorCode, status: number) {
  return class extends ChatError {
    override readonly name = name;

    constructor(message: string) {
      super(code, status, message);
    }
  };
}

export class BadRequest extends worded('BadRequest', 'BAD_REQUEST', 400) {}

export class RoomNotFound extends ChatError {
  override readonly name = 'RoomNotFound';

  /**
   * One answer for a code no room has and for a room's code with a missing or old invite key (after `rotatekey`): it
   * says what to do in either case and reveals nothing a wrong code does not (docs/SECURITY.md).
   */
  constructor(roomId: string) {
    super(
      'ROOM_NOT_FOUND',
      404,
      `No room opens to ${roomId} as given. Check the code, or ask for the room's current invite link.`,
    );
  }
}

/**
 * A join or subscribe with a key the room had before its owner rotated it (`rotatekey`, `removemember`): only
 * someone who once held the room's invite link can bring one, so saying so tells nothing a guess could learn
 * (docs/SECURITY.md). No strike and no guess spent: it is what an honest reconnect after a rotation sends.
 */
export class KeyReplaced extends ChatError {
  override readonly name = 'KeyReplaced';
  override readonly strike = false;

  constructor(roomId: string) {
    super(
      'KEY_REPLACED',
      403,
      `The invite key you have for room ${roomId} was replaced by its owner: ask a member for the room's current invite link.`,
    );
  }
}

/** Why a room can't be used any more: it went RoomIdleDays without a message, or its owner closed it. */
export type RoomEnd = 'expired' | 'closed';

export class RoomClosed extends ChatError {
  override readonly name = 'RoomClosed';

  constructor(roomId: string, end: RoomEnd) {
    super(
      'ROOM_CLOSED',
      410,
      end === 'closed'
        ? `Room ${roomId} was closed by its owner. Create a room or join another.`
        : `Room ${roomId} expired after a long time without messages. Create a room or join another.`,
    );
  }
}

export class Forbidden extends worded('Forbidden', 'FORBIDDEN', 403) {}

/** A moderator muted the member in this room (functions/moderation/moderation.ts). No strike: it is the room's rule. */
export class Muted extends ChatError {
  override readonly name = 'Muted';
  override readonly strike = false;
  override readonly details: Pick<ErrorFrame, 'until'>;

  /** @param until when the mute ends (ISO 8601); undefined: until a moderator unmutes. */
  constructor(roomId: string, until: string | undefined) {
    super(
      'MUTED',
      403,
      until === undefined
        ? `You are muted in room ${roomId} until a moderator unmutes you: you can read, not post, edit or react.`
        : `You are muted in room ${roomId} until ${until}: you can read, not post, edit or react.`,
    );
    this.details = until === undefined ? {} : { until };
  }
}

/** The member is banned from the room (functions/moderation/moderation.ts): no join, no post. No strike. */
export class Banned extends ChatError {
  override readonly name = 'Banned';
  override readonly strike = false;

  constructor(roomId: string) {
    super('BANNED', 403, `You are banned from room ${roomId}: you can't join it or post there.`);
  }
}

/** The room is in slow mode and the member sent within its interval. No strike: waiting is all it takes. */
export class SlowMode extends ChatError {
  override readonly name = 'SlowMode';
  override readonly strike = false;
  override readonly details: Pick<ErrorFrame, 'retryAfterSeconds'>;

  constructor(seconds: number, retryAfterSeconds: number) {
    super(
      'SLOW_MODE',
      429,
      `This room is in slow mode: one message every ${seconds} s. Wait ${retryAfterSeconds} s, then send again.`,
    );
    this.details = { retryAfterSeconds };
  }
}

export class MessageTooLarge extends ChatError {
  override readonly name = 'MessageTooLarge';

  constructor(
    limitBytes: number,
    message = `Message text is limited to ${limitBytes} bytes (UTF-8) after trimming.`,
  ) {
    super('MESSAGE_TOO_LARGE', 413, message);
  }
}

export class RateLimited extends ChatError {
  override readonly name = 'RateLimited';

  /**
   * @param strike whether the refusal is the client's doing (going too fast, guessing rooms) and counts as a strike
   *   on its connection (guard.ts). A refusal for the server's own state (a retry arriving while its first attempt
   *   is still being sent) is not: a well-behaved client retrying through a backend's slow moment must not be
   *   closed as an abuser.
   */
  constructor(
    message = 'You are sending too fast. Wait a moment and try again.',
    override readonly strike = true,
  ) {
    super('RATE_LIMITED', 429, message);
  }
}

/**
 * The deployment's policy refuses the request (a post to a lobby that takes only announcements, or where there is
 * no lobby). A client cannot fix it by going slower, so it is no strike (guard.ts).
 */
export class NotAllowed extends worded('NotAllowed', 'BAD_REQUEST', 403) {
  override readonly strike = false;
}

/**
 * A frame about a room (`roomId`) the connection is not in (websocket.ts): refused, never done in the connection's own
 * room instead. No strike: a client whose room changed a moment ago (a removal, a second tab) is not abusing anything.
 */
export class NotSubscribed extends ChatError {
  override readonly name = 'NotSubscribed';
  override readonly strike = false;

  constructor(roomId: string) {
    super('NOT_SUBSCRIBED', 409, `You are not in room ${roomId}: join it first, then send this again.`);
  }
}

/** The connection follows as many rooms as it may (LIMITS.subscriptionsMax): one more is refused. No strike. */
export class TooManyRooms extends ChatError {
  override readonly name = 'TooManyRooms';
  override readonly strike = false;

  constructor(max: number) {
    super(
      'TOO_MANY_ROOMS',
      409,
      `This connection follows ${max} rooms, the most it may: leave one (leaveroom with its roomId), then try again.`,
    );
  }
}

/** A source already holds as many live connections as it may (sourceCap.ts): the handshake is refused with 429. */
export class TooManyConnections extends ChatError {
  override readonly name = 'TooManyConnections';

  constructor(
    cap: number,
    message = `Too many connections from your network (at most ${cap}). Close one, or try again later.`,
  ) {
    super('RATE_LIMITED', 429, message);
  }
}

/**
 * The message holds a word of the deployment's filter list (FilterMode=refuse; functions/safety/filter.ts): nothing
 * is stored. No strike: a person who typed a listed word is told to reword it, not closed.
 */
export class Filtered extends ChatError {
  override readonly name = 'Filtered';
  override readonly strike = false;

  constructor(message = "Your message holds a word this chat doesn't allow: reword it and send again.") {
    super('FILTERED', 422, message);
  }
}

/**
 * The connection is not (or no longer) registered, e.g. it was pruned as stale. No strike: a connection that is not
 * registered (closed, or its frames still in flight after the close) has nothing to strike.
 */
export class UnknownConnection extends ChatError {
  override readonly name = 'UnknownConnection';
  override readonly strike = false;

  constructor() {
    super('BAD_REQUEST', 400, 'This connection is not registered. Reconnect and try again.');
  }
}

export class UnsupportedMediaType extends ChatError {
  override readonly name = 'UnsupportedMediaType';

  constructor() {
    super('UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as Content-Type: application/json.');
  }
}

/**
 * Which limit a Busy answer met: the function's deadline, DynamoDB throttling a key past the SDK's retries, one
 * message's items held by other changes' transactions try after try, or one item's conditional write overtaken by
 * other writers try after try (a join-guess bucket).
 */
type BusyLimit =
  | 'deadline'
  | 'dynamodb-throttling'
  | 'transaction-conflicts'
  | 'write-conflicts'
  | 'settings';

/**
 * The request met a limit for now (it could not finish before the function's timeout, or DynamoDB throttled a key):
 * answered `BUSY` in time, so the client retries; a send retried with the same clientMsgId is never stored twice.
 */
export class Busy extends ChatError {
  override readonly name = 'Busy';

  constructor(readonly limit: BusyLimit = 'deadline') {
    super(
      'BUSY',
      503,
      'The chat is busy right now. Retry in a moment (a message with the same clientMsgId is never sent twice).',
      { fault: 'server' },
    );
  }
}

/** DynamoDB's answers that mean a key took more than its share (the SDK retried them and gave up). */
const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

/**
 * A failure that only says a limit was met for now, as the Busy to answer: DynamoDB throttling past the SDK's retries
 * (a transaction cancelled for a throttled item too), or an item held by other transactions past the caller's tries
 * (TransactionConflictException, or a transaction cancelled with a TransactionConflict reason). Undefined for any
 * other failure.
 */
export function busyFrom(error: unknown): Busy | undefined {
  if (error instanceof Busy) return error;
  const name = (error as { name?: string } | null | undefined)?.name;
  if (name !== undefined && THROTTLED.has(name)) return new Busy('dynamodb-throttling');
  if (isTransactionConflict(error)) return new Busy('transaction-conflicts');
  // A new environment that could not read the settings document runs nothing on defaults (platform/settings.ts).
  if (name === 'SettingsUnavailable') return new Busy('settings');
  if (cancellationCodes(error)?.includes('ThrottlingError')) return new Busy('dynamodb-throttling');
  return undefined;
}

/**
 * The chat bus refused events. The detail (which entries, why) goes to the logs; the caller hears INTERNAL with
 * what it can do about it, which only the use case knows (a send may be retried with its clientMsgId).
 */
export class PublishFailed extends ChatError {
  override readonly name = 'PublishFailed';

  constructor(
    detail: string,
    readonly failedEntries: number,
    publicMessage = 'Something went wrong on our side. Please try again.',
    cause?: unknown,
  ) {
    super('INTERNAL', 503, detail, { publicMessage, fault: 'server', cause });
  }

  /** The same failure, with the sentence the use case that hit it tells its caller. */
  told(publicMessage: string): PublishFailed {
    return new PublishFailed(this.message, this.failedEntries, publicMessage, this);
  }
}

const UNKNOWN = new ChatError('INTERNAL', 500, 'unexpected error', {
  publicMessage: 'Something went wrong on our side. Please try again.',
  fault: 'server',
});

/** Any thrown value as roomcast's error: unknown errors become INTERNAL (500) with a generic sentence. */
export function describeError(error: unknown): ChatError {
  return error instanceof ChatError ? error : UNKNOWN;
}

/** What names the request an error answers: its requestId, and for sendmessage its clientMsgId. */
export type RequestIds = Pick<ErrorFrame, 'requestId' | 'clientMsgId'>;

/**
 * The frame a WebSocket client sees for any error, naming the request it answers so a client with several requests
 * in flight knows which one failed.
 */
export function toErrorFrame(error: unknown, action: string, ids: RequestIds = {}): ErrorFrame {
  const { code, publicMessage, details } = describeError(error);
  // UNSUPPORTED_MEDIA_TYPE is only thrown by the REST side; a frame would call it a bad request.
  return {
    type: 'error',
    code: code === 'UNSUPPORTED_MEDIA_TYPE' ? 'BAD_REQUEST' : code,
    message: publicMessage,
    action,
    ...ids,
    ...details,
  };
}

/** The HTTP status and JSON body a REST client sees for any error. */
export function toHttpError(error: unknown): { statusCode: number; body: { code: string; message: string } } {
  const { status, code, publicMessage } = describeError(error);
  return { statusCode: status, body: { code, message: publicMessage } };
}

/** Another public room has that name (protocol/directory.ts): names are unique among public rooms. No strike. */
export class NameTaken extends ChatError {
  override readonly name = 'NameTaken';
  override readonly strike = false;

  constructor(roomName: string) {
    super(
      'NAME_TAKEN',
      409,
      `Another public room is called "${roomName}": choose another name, or keep the room private (private names may repeat).`,
    );
  }
}
