/** Error codes of the client protocol (DESIGN.md section 2). */
export type ErrorCode = 'BAD_REQUEST' | 'ROOM_NOT_FOUND' | 'MESSAGE_TOO_LARGE' | 'RATE_LIMITED' | 'INTERNAL';

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

/** The request could not finish before the function's timeout: answered in time so the client can retry. */
export class Busy extends ChatError {
  constructor() {
    super(
      'INTERNAL',
      'The chat is busy right now. Retry in a moment (a message with the same clientMsgId is never sent twice).',
    );
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

export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  action: string;
}

/** Maps any error to the frame the client sees. Unknown errors become INTERNAL with a generic sentence. */
export function toErrorFrame(error: unknown, action: string): ErrorFrame {
  if (error instanceof ChatError) return { type: 'error', code: error.code, message: error.message, action };
  if (error instanceof PublishFailed) {
    return {
      type: 'error',
      code: 'INTERNAL',
      message:
        'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.',
      action,
    };
  }
  return {
    type: 'error',
    code: 'INTERNAL',
    message: 'Something went wrong on our side. Please try again.',
    action,
  };
}
