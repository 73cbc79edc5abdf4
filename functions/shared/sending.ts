import { randomUUID } from 'node:crypto';
import { requireConnection } from './connections';
import { PublishFailed, RateLimited } from './errors';
import type { ChatPorts, SendRecord, SendSettings } from './ports';
import { type AckFrame, type ChatMessage, toMessageFrame } from './protocol';
import { takeSendToken } from './rateLimit';

/** Sending: one message stored under its room's next seq, published once, acked once, whatever is retried. */

const SEND_RECORD_TTL_SECONDS = 24 * 3600;
/** How long a claimed send is presumed in flight before a retry may take it over. */
const IN_FLIGHT_MS = 10_000;
/** What a sender whose message is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

export type SendDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'messages' | 'sends' | 'events' | 'now'> &
  SendSettings;

/** Retries a write that must not be lost, with a growing pause (about 1.5 s in all before giving up). */
async function persist(write: () => Promise<void>, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * Math.random() + 50));
    }
  }
}

export interface SendInput {
  connectionId: string;
  text: string;
  clientMsgId?: string;
}

/**
 * Stores a message under the room's next seq and publishes it. With a clientMsgId the send is idempotent: a retry
 * returns the first ack, and publishes only if the first attempt stored the message but failed to publish it.
 */
export async function sendMessage(
  deps: SendDeps,
  input: SendInput,
): Promise<{ ack: AckFrame; message: ChatMessage }> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId, username } = connection;
  const now = deps.now();
  // Before the send is claimed, so a refused message leaves nothing behind and its retry starts clean.
  if (deps.sendRate) await takeSendToken(deps.connections, connection, deps.sendRate, now.getTime());
  const sendKey = input.clientMsgId ? `${roomId}#${username}#${input.clientMsgId}` : undefined;
  const fresh: SendRecord = {
    sendKey: sendKey ?? '',
    messageId: randomUUID(),
    published: false,
    claimedAt: now.getTime(),
  };
  const { record, created } = sendKey
    ? await deps.sends.claim(fresh, epochSeconds(now) + SEND_RECORD_TTL_SECONDS)
    : { record: fresh, created: true };
  if (!created && record.seq === undefined && now.getTime() - record.claimedAt < IN_FLIGHT_MS) {
    // The first attempt is still between claiming and storing; a second seq now would duplicate the message.
    throw new RateLimited('This message is still being sent. Retry with the same clientMsgId in a moment.');
  }

  let message: ChatMessage;
  const expiresAt = epochSeconds(now) + deps.messageRetentionDays * 86400;
  const compose = (seq: number, sentAt: string): ChatMessage => ({
    roomId,
    seq,
    messageId: record.messageId,
    username,
    text: input.text,
    sentAt,
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
  });
  if (record.seq !== undefined && record.sentAt !== undefined) {
    const [stored] = await deps.messages.after(roomId, record.seq - 1, 1);
    if (stored && stored.seq === record.seq) message = stored;
    else {
      // An earlier attempt took this seq but failed to store its message: store it now, so no seq stays empty.
      message = compose(record.seq, record.sentAt);
      await deps.messages.put(message, expiresAt).catch(async (error: unknown) => {
        const [raced] = await deps.messages.after(roomId, (record.seq as number) - 1, 1);
        if (raced?.seq !== record.seq || raced?.messageId !== record.messageId) throw error;
      });
    }
  } else {
    const seq = await deps.rooms.nextSeq(roomId);
    message = compose(seq, now.toISOString());
    // The seq is recorded before the message is stored: if storing fails, a retry with the same clientMsgId
    // stores the message under this seq instead of leaving a gap (or, stored twice, a duplicate) in the room.
    // Once a seq is reserved, the one write that makes it recoverable (the send record, or the message itself
    // without a clientMsgId) is retried beyond the SDK's own attempts: giving up here would leave the seq empty.
    const recorded = message;
    if (sendKey) await persist(() => deps.sends.recordSeq(sendKey, seq, recorded.sentAt));
    else await persist(() => deps.messages.put(recorded, expiresAt));
    if (sendKey) await deps.messages.put(message, expiresAt);
  }

  // Only one attempt publishes: a concurrent retry that loses the claim returns the same ack without publishing.
  const publishing =
    !record.published && (!sendKey || (await deps.sends.claimPublish(sendKey, now.getTime())));
  if (publishing) {
    try {
      await deps.events.publish([
        {
          type: 'MessageSent',
          messageId: message.messageId,
          roomId,
          payload: JSON.stringify(toMessageFrame(message)),
        },
      ]);
    } catch (error) {
      // Let a later retry with the same clientMsgId publish it.
      if (sendKey) await deps.sends.releasePublish(sendKey).catch(() => undefined);
      throw error instanceof PublishFailed ? error.told(STORED_NOT_SENT) : error;
    }
    if (sendKey) await deps.sends.markPublished(sendKey);
  }
  const ack: AckFrame = {
    type: 'ack',
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
    messageId: message.messageId,
    roomId,
    seq: message.seq,
  };
  return { ack, message };
}
