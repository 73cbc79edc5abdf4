import type { ChatMessage } from '#core/protocol';

/**
 * A stored message as clients see it: the item without its TTL. Apart from the message store (functions/messages/dynamoMessages.ts),
 * so the fan-out and push, which read items but no history, bundle none of the history's reads.
 */
export function toMessage(item: Record<string, unknown>): ChatMessage {
  const { ttl: _ttl, ...message } = item;
  return message as unknown as ChatMessage;
}
