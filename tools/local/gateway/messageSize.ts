import type { WebSocket } from 'ws';

/**
 * API Gateway's 128 KB message quota on what the server sends: a route response over it is not delivered (the
 * client hears nothing, as for a lost frame), and a PostToConnection over it is refused with 413
 * PayloadTooLargeException (management.ts). Sizes are UTF-8 bytes of the text frame.
 */
export const MAX_MESSAGE_BYTES = 128 * 1024;

export interface ReplyLimit {
  /** Default MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  log?: (level: 'warn', msg: string, fields: Record<string, unknown>) => void;
}

/** Sends a text frame the stage answers with (a route response, a gateway error), unless it is over the limit. */
export function sendWithinLimit(
  conn: { readonly id: string; readonly socket: WebSocket },
  text: string,
  limit: ReplyLimit,
): boolean {
  const max = limit.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  // A string of n UTF-16 units has at most 3n UTF-8 bytes: most replies are cleared without being measured.
  if (text.length * 3 > max) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > max) {
      limit.log?.('warn', 'route response over the message limit, not delivered', {
        connectionId: conn.id,
        bytes,
        maxMessageBytes: max,
      });
      return false;
    }
  }
  conn.socket.send(text);
  return true;
}
