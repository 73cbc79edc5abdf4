import { instrumented } from '#platform/invocation';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import type { MessageFrame } from '#protocol';
import { type NotifyReport, notifyByPush } from './notify';
import { notifyDeps } from './wiring';

const deps = onFirstCall(notifyDeps);

/** The bus's `MessageSent` event as rule PushOnMessageRule hands it over (the whole event). */
export interface MessageSentEvent {
  'detail-type': string;
  detail: { roomId?: unknown; seq?: unknown; payload?: unknown; roomName?: unknown };
}

/**
 * The room's name the event carries (appending.ts publishStored): a name, null for a room with none, undefined when
 * the event carries none (a retry's publish), and notifyByPush reads it.
 */
function roomNameOf(event: MessageSentEvent): string | null | undefined {
  const { roomName } = event.detail ?? {};
  return typeof roomName === 'string' || roomName === null ? roomName : undefined;
}

/** The chat message an event carries, or undefined for a change or a malformed event (logged, never retried). */
function messageOf(event: MessageSentEvent): MessageFrame | undefined {
  const { payload } = event.detail ?? {};
  if (typeof payload !== 'string') return undefined;
  try {
    const frame = JSON.parse(payload) as Partial<MessageFrame>;
    return frame.type === 'message' &&
      typeof frame.roomId === 'string' &&
      typeof frame.seq === 'number' &&
      typeof frame.text === 'string' &&
      typeof frame.username === 'string'
      ? (frame as MessageFrame)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The bus's entry: one `MessageSent` event, asynchronously invoked. A push is advisory, so a failure is logged
 * and the invocation succeeds: Lambda's retry of an asynchronous invocation would push a second time.
 */
export const onMessageSent = instrumented(
  async (event: MessageSentEvent): Promise<NotifyReport | undefined> => {
    const message = messageOf(event);
    if (!message) {
      logger.info('not a chat message: no push', { detailType: event['detail-type'] });
      return undefined;
    }
    try {
      return await notifyByPush(deps(), message, roomNameOf(event));
    } catch (error) {
      logger.error('push notifications failed', {
        roomId: message.roomId,
        seq: message.seq,
        error: error as Error,
      });
      return undefined;
    }
  },
);
