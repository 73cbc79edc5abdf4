import { randomUUID } from 'node:crypto';
import { requireConnection } from './connections';
import { Busy, PublishFailed, RateLimited } from './errors';
import type { ChatPorts, Connection, SendRecord, SendSettings } from './ports';
import { type AckFrame, type ChatMessage, toMessageFrame } from './protocol';
import { takeSendToken, takeToken } from './rateLimit';

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
  /** Aborted when the sender was already answered Busy: then no seq is taken and nothing published (its retry does). */
  signal?: AbortSignal;
}

/**
 * Stores a message under the room's next seq and publishes it. With a clientMsgId the send is idempotent: a retry
 * returns the first ack, and publishes only if the first attempt stored the message but failed to publish it.
 *
 * A fresh send makes four sequential DynamoDB round trips before PutEvents (docs/PERFORMANCE.md): read the
 * connection; take a send token and claim the clientMsgId at once; take the room's next seq; record that seq
 * (with the publish claim) and store the message at once. Then PutEvents, then one write marking it published.
 */
export async function sendMessage(
  deps: SendDeps,
  input: SendInput,
): Promise<{ ack: AckFrame; message: ChatMessage }> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId, username } = connection;
  const now = deps.now();
  const sendKey = input.clientMsgId ? `${roomId}#${username}#${input.clientMsgId}` : undefined;
  const fresh: SendRecord = {
    sendKey: sendKey ?? '',
    messageId: randomUUID(),
    published: false,
    claimedAt: now.getTime(),
  };
  const { record, created } = await claimWithToken(deps, connection, sendKey, fresh, now);
  if (!created && record.seq === undefined && now.getTime() - record.claimedAt < IN_FLIGHT_MS) {
    // The first attempt is still between claiming and storing; a second seq now would duplicate the message.
    throw new RateLimited('This message is still being sent. Retry with the same clientMsgId in a moment.');
  }

  let message: ChatMessage;
  /** Whether this attempt may publish without asking: it holds the publish claim, or nobody else can take it. */
  let holdsClaim = false;
  /** The seq to write with markPublished when recording it failed. */
  let unrecorded: { seq: number; sentAt: string } | undefined;
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
      const storedHere = await deps.messages.put(message, expiresAt).then(
        () => true,
        async (error: unknown) => {
          const [raced] = await deps.messages.after(roomId, (record.seq as number) - 1, 1);
          if (raced?.seq !== record.seq || raced?.messageId !== record.messageId) throw error;
          return false;
        },
      );
      // This retry stored the message, so the attempt holding the claim never did, and never publishes it.
      if (storedHere && sendKey)
        holdsClaim = await deps.sends.claimPublish(sendKey, now.getTime(), { takeOver: true });
    }
  } else {
    // A send already answered Busy must not take a seq: its retry may be taking over the claim right now.
    if (input.signal?.aborted) throw new Busy();
    const seq = await deps.rooms.nextSeq(roomId);
    message = compose(seq, now.toISOString());
    const recorded = message;
    if (sendKey) {
      // The seq is recorded and the message stored at once. If storing fails, a retry with the same clientMsgId
      // finds the seq and stores the message under it instead of leaving a gap (or, stored twice, a duplicate).
      // The record is the write that makes a reserved seq recoverable: it is retried beyond the SDK's own
      // attempts, and if it still fails while the message is stored, markPublished writes the seq instead.
      const [seqRecorded, messageStored] = await Promise.allSettled([
        persist(() => deps.sends.recordSeq(sendKey, seq, recorded.sentAt, now.getTime())),
        deps.messages.put(message, expiresAt),
      ]);
      if (messageStored.status === 'rejected') throw messageStored.reason;
      if (seqRecorded.status === 'rejected') unrecorded = { seq, sentAt: recorded.sentAt };
      holdsClaim = true;
    } else {
      // Without a clientMsgId nothing can refill the seq: the message itself is the write that must not be lost.
      await persist(() => deps.messages.put(recorded, expiresAt));
    }
  }

  // A send already answered Busy leaves the publishing to its retry: the message is stored, the record says so.
  if (input.signal?.aborted) throw new Busy();
  // Only one attempt publishes: a concurrent retry that loses the claim returns the same ack without publishing.
  const publishing =
    !record.published && (!sendKey || holdsClaim || (await deps.sends.claimPublish(sendKey, now.getTime())));
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
    if (sendKey) {
      const mark = () => deps.sends.markPublished(sendKey, unrecorded);
      // Without the seq recorded, this write is what stops a late retry from storing the message a second time.
      if (unrecorded) await persist(mark);
      else await mark();
    }
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

/**
 * Takes a send token and claims the clientMsgId in one round trip. A send the bucket already refuses writes
 * nothing; one that loses a race for the last token gives its fresh claim back, so its retry starts clean.
 */
async function claimWithToken(
  deps: SendDeps,
  connection: Connection,
  sendKey: string | undefined,
  fresh: SendRecord,
  now: Date,
): Promise<{ record: SendRecord; created: boolean }> {
  const nowMs = now.getTime();
  const rate = deps.sendRate;
  // Refused on what was just read: takeSendToken throws RateLimited (with the wait) before any write.
  const refusedAlready = rate !== undefined && !takeToken(connection.sendBucket, rate, nowMs).allowed;
  if (rate && refusedAlready) await takeSendToken(deps.connections, connection, rate, nowMs);
  const [token, claim] = await Promise.allSettled([
    rate && !refusedAlready ? takeSendToken(deps.connections, connection, rate, nowMs) : Promise.resolve(),
    sendKey
      ? deps.sends.claim(fresh, epochSeconds(now) + SEND_RECORD_TTL_SECONDS)
      : Promise.resolve({ record: fresh, created: true }),
  ]);
  if (token.status === 'rejected') {
    if (sendKey && claim.status === 'fulfilled' && claim.value.created) {
      await deps.sends.forget(sendKey).catch(() => undefined);
    }
    throw token.reason;
  }
  if (claim.status === 'rejected') throw claim.reason;
  return claim.value;
}
