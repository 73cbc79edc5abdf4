import { BadRequest } from '#core/errors';
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

/**
 * A listing route's `limit` and `before` (the `next` of its previous page, `<at>~<id>`), checked: `limit` a whole
 * number from 1 to `max` (absent: `max`), `before` matching the route's own cursor pattern. Bad input is a
 * BadRequest naming the field and the route, so a client learns what to send.
 */
export function parseCursorPage(
  limit: unknown,
  before: unknown,
  rule: { max: number; cursor: RegExp; route: string; newest: string },
): { limit: number; cursor?: [string, string] } {
  const { max } = rule;
  if (limit !== undefined && (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > max))
    throw new BadRequest(`"limit" must be a whole number from 1 to ${max}, or absent (${max}).`);
  if (before !== undefined && (typeof before !== 'string' || !rule.cursor.test(before)))
    throw new BadRequest(
      `"before" must be the \`next\` of a \`${rule.route}\` page, or absent (${rule.newest}).`,
    );
  const [at = '', id = ''] = typeof before === 'string' ? before.split('~') : [];
  return {
    limit: (limit as number | undefined) ?? max,
    ...(typeof before === 'string' && { cursor: [at, id] }),
  };
}
