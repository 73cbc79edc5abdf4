import { LIMITS } from '#core/protocol';

/**
 * Replies that carry messages (`history`, `joined`) in pages by size: API Gateway delivers no message over 128 KB,
 * route responses included, and a message's JSON can be six times its 4 KB of text (escaped quotes, control
 * characters), so a count alone cannot bound a reply.
 */

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * The first of `messages` that fit in `frame` under `field` within `maxBytes` of JSON, and whether any were left
 * out. At least one message is kept, so a reader always moves on (one message's frame is at most ~25 KB).
 */
export function fitMessages<F extends object, M>(
  frame: F,
  field: string,
  messages: readonly M[],
  maxBytes: number = LIMITS.replyMaxBytes,
): { page: M[]; cut: boolean } {
  let bytes = utf8(JSON.stringify({ ...frame, [field]: [] }));
  let kept = 0;
  for (const message of messages) {
    // The message and the comma before it.
    bytes += utf8(JSON.stringify(message)) + (kept > 0 ? 1 : 0);
    if (bytes > maxBytes && kept > 0) break;
    kept++;
  }
  return { page: messages.slice(0, kept), cut: kept < messages.length };
}
