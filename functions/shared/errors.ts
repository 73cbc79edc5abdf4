import type { ErrorCode, ErrorFrame } from '../../protocol';

/** Error codes and the error frame are defined in protocol/. */
export type { ErrorCode, ErrorFrame } from '../../protocol';

/** An error the client is told about: its code and a short human sentence, never a stack trace. */
export class ChatError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequest extends ChatError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
  }
}

export class RoomNotFound extends ChatError {
  constructor(roomId: string) {
    super('ROOM_NOT_FOUND', `Room ${roomId} does not exist. Check the code or create a room.`);
  }
}

export class MessageTooLarge extends ChatError {
  constructor(limitBytes: number) {
    super('MESSAGE_TOO_LARGE', `Message text is limited to ${limitBytes} bytes (UTF-8) after trimming.`);
  }
}

export class RateLimited extends ChatError {
  constructor(message = 'You are sending too fast. Wait a moment and try again.') {
    super('RATE_LIMITED', message);
  }
}

/** The connection is not (or no longer) registered, e.g. it was pruned as stale. */
export class UnknownConnection extends ChatError {
  constructor() {
    super('BAD_REQUEST', 'This connection is not registered. Reconnect and try again.');
  }
}

/** A downstream dependency failed; the detail goes to the logs, the client gets INTERNAL. */
export class PublishFailed extends Error {
  constructor(
    message: string,
    readonly failedEntries: number,
  ) {
    super(message);
    this.name = 'PublishFailed';
  }
}

/** What names the request an error answers: its requestId, and for sendmessage its clientMsgId. */
export type RequestIds = Pick<ErrorFrame, 'requestId' | 'clientMsgId'>;

/**
 * Maps any error to the frame the client sees, naming the request it answers so a client with several requests in
 * flight knows which one failed. Unknown errors become INTERNAL with a generic sentence.
 */
export function toErrorFrame(error: unknown, action: string, ids: RequestIds = {}): ErrorFrame {
  if (error instanceof ChatError)
    return { type: 'error', code: error.code, message: error.message, action, ...ids };
  if (error instanceof PublishFailed) {
    return {
      type: 'error',
      code: 'INTERNAL',
      message:
        'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.',
      action,
      ...ids,
    };
  }
  return {
    type: 'error',
    code: 'INTERNAL',
    message: 'Something went wrong on our side. Please try again.',
    action,
    ...ids,
  };
}
