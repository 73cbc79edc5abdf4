import { randomUUID } from 'node:crypto';
import { requireConnection } from './connections';
import { Busy, PublishFailed, RateLimited, refusedUnapplied } from './errors';
import type { ChatPorts, Connection, SendRecord, SendSettings } from './ports';
import { logger } from './powertools';
import { type AckFrame, type ChatMessage, toMessageFrame } from './protocol';
import { takeSendToken, takeToken } from './rateLimit';

/** Sending: one message stored under its room's next seq, published once, acked once, whatever is retried. */

const SEND_RECORD_TTL_SECONDS = 24 * 3600;
/** An attempt's life when its caller names no deadline (a direct call): SendMessage's timeout in the template. */
const DEFAULT_LIFE_MS = 10_000;
/**
 * How long after its holder's life a claim that holds no seq still waits before a retry may take it over: a write
 * the holder started in time may still be applied later (a backlogged table, a request still on the wire). Past it,
 * the holder is fenced off by its claimId (docs/RELIABILITY.md, "A message under one seq").
 */
export const TAKEOVER_MARGIN_MS = 20_000;
/** What a sender whose message is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

export type SendDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'messages' | 'sends' | 'events' | 'now'> &
  SendSettings;

/** Retries a write that must not be lost, with a growing pause (about 1.5 s in all before giving up). */
async function persist<T>(write: () => Promise<T>, attempts = 4): Promise<T> {
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
  /** When this attempt's function times out (epoch ms): a retry may take its claim over only well after it. */
  deadline?: number;
}

/** The end of the life of the attempt holding a claim. */
const lifeEnd = (record: SendRecord) => record.liveUntil ?? record.claimedAt + DEFAULT_LIFE_MS;
/** How old a publish claim of this send must be before another attempt may take it. */
const publishStaleAfter = (record: SendRecord) => lifeEnd(record) - record.claimedAt + TAKEOVER_MARGIN_MS;

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
  const claimId = randomUUID();
  const liveUntil = input.deadline ?? now.getTime() + DEFAULT_LIFE_MS;
  const fresh: SendRecord = {
    sendKey: sendKey ?? '',
    messageId: randomUUID(),
    published: false,
    claimedAt: now.getTime(),
    claimId,
    liveUntil,
  };
  let { record, created } = await claimWithToken(deps, connection, sendKey, fresh, now);
  if (sendKey && !created && record.seq === undefined) {
    // Another attempt holds the claim and has recorded no seq. While it may still record one, a second seq would
    // store the message twice; once it cannot, this attempt fences it off by taking the claim over.
    const stillBeingSent = new RateLimited(
      'This message is still being sent. Retry with the same clientMsgId in a moment.',
      false,
    );
    if (now.getTime() < lifeEnd(record) + TAKEOVER_MARGIN_MS) throw stillBeingSent;
    const taken = await deps.sends.takeOver(sendKey, record.claimId, {
      claimId,
      claimedAt: now.getTime(),
      liveUntil,
    });
    if (taken) record = { ...record, claimId, claimedAt: now.getTime(), liveUntil };
    else {
      // Its seq landed first (then this is a retry like any other), or another retry took the claim.
      ({ record } = await deps.sends.claim(fresh, epochSeconds(now) + SEND_RECORD_TTL_SECONDS));
      if (record.seq === undefined) throw stillBeingSent;
    }
  }
  /** Past its life, or answered Busy: a retry may take over soon, so this attempt starts nothing it would repeat. */
  const late = () => input.signal?.aborted === true || deps.now().getTime() >= liveUntil;

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
    // A send already answered Busy must not take a seq: it gives its claim back, so its retry starts clean.
    if (input.signal?.aborted) {
      if (sendKey) await deps.sends.forget(sendKey, claimId).catch(() => undefined);
      throw new Busy();
    }
    const seq = await deps.rooms.nextSeq(roomId).catch(async (error: unknown) => {
      // Refused before it took a seq (throttled, most often): the claim goes back, so the retry starts clean at once
      // instead of being told "still being sent" until this attempt's life and the takeover margin have passed.
      // A failure that may have taken the seq (a 5xx, a timeout) keeps the claim: it fences a second seq off.
      if (sendKey && refusedUnapplied(error))
        await deps.sends.forget(sendKey, claimId).catch(() => undefined);
      throw error;
    });
    message = compose(seq, now.toISOString());
    const recorded = message;
    if (sendKey) {
      // Only the holder of the claim may record a seq (a later holder fenced this attempt off by its claimId).
      // The record is the write that makes a reserved seq recoverable: it is retried beyond the SDK's own attempts.
      const recordSeq = () =>
        persist(() => deps.sends.recordSeq(sendKey, claimId, seq, recorded.sentAt, now.getTime()));
      if (late()) {
        // Answered Busy while taking the seq: the seq first, the message only once the seq is surely this send's.
        // One more round trip, for an abandoned attempt only; if the claim was taken over the seq stays empty.
        if (!(await recordSeq())) throw new Busy();
        await deps.messages.put(message, expiresAt);
      } else {
        // The seq is recorded and the message stored at once. If storing fails, a retry with the same clientMsgId
        // finds the seq and stores the message under it instead of leaving a gap (or, stored twice, a duplicate).
        // If recording fails while the message is stored, markPublished writes the seq instead.
        const [seqRecorded, messageStored] = await Promise.allSettled([
          recordSeq(),
          deps.messages.put(message, expiresAt),
        ]);
        if (seqRecorded.status === 'fulfilled' && !seqRecorded.value) {
          // The seq landed after a retry took the claim over: that retry stores the message under its own seq, so
          // this copy goes (this seq stays empty rather than the message being shown twice).
          if (messageStored.status === 'fulfilled')
            await persist(() => deps.messages.remove(roomId, seq, recorded.messageId));
          throw new Busy();
        }
        if (messageStored.status === 'rejected') throw messageStored.reason;
        if (seqRecorded.status === 'rejected') unrecorded = { seq, sentAt: recorded.sentAt };
      }
      // Recording the seq took the publish claim (given back below if this attempt was answered Busy).
      holdsClaim = true;
    } else {
      // Without a clientMsgId nothing can refill the seq: the message itself is the write that must not be lost.
      await persist(() => deps.messages.put(recorded, expiresAt));
    }
  }

  // A send already answered Busy (or past its life) leaves the publishing to its retry: the message is stored, the
  // record says so.
  if (input.signal?.aborted || (sendKey && late())) {
    // Its retry may come at once: the publish claim this attempt holds goes back, or the retry could not publish.
    if (sendKey && holdsClaim) await deps.sends.releasePublish(sendKey, now.getTime()).catch(() => undefined);
    throw new Busy();
  }
  // Only one attempt publishes: a concurrent retry that loses the claim returns the same ack without publishing.
  const publishing =
    !record.published &&
    (!sendKey ||
      holdsClaim ||
      (await deps.sends.claimPublish(sendKey, now.getTime(), { staleAfterMs: publishStaleAfter(record) })));
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
      if (sendKey) await deps.sends.releasePublish(sendKey, now.getTime()).catch(() => undefined);
      throw error instanceof PublishFailed ? error.told(STORED_NOT_SENT) : error;
    }
    if (sendKey) {
      const seqToMark = unrecorded && { ...unrecorded, claimId };
      const mark = () => deps.sends.markPublished(sendKey, seqToMark);
      // Without the seq recorded, this write is what stops a late retry from storing the message a second time.
      if (!(unrecorded ? await persist(mark) : await mark()))
        logger.error('a send published its seq after its claim was taken over', { sendKey });
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
      await deps.sends.forget(sendKey, fresh.claimId as string).catch(() => undefined);
    }
    throw token.reason;
  }
  if (claim.status === 'rejected') throw claim.reason;
  return claim.value;
}
