import { randomUUID } from 'node:crypto';
import { orBusy } from '#core/busy';
import { Busy } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { refuseKnownEmpty, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { takeMessageToken } from '#core/limits/rateLimit';
import { senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { type AckFrame, type ChatMessage, LOBBY } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import { SendNotes } from '#core/sendNotes';
import { DM_ROOM_CODE_LENGTH } from '#protocol';
import { publishStored, type WakeBy, wakeUnstored } from './appending';
import { messageFrameOf } from './changeFrames';
import { attachmentsChecked, composeMessage, type FirstReads } from './composing';
import type { SendRecord } from './ports';
import { answerRecorded, appendNew, storeFenced } from './sendAttempts';
import { afterStore, beginSend, onPublish, type SendScope } from './sendHooks';
import type { Send, SendDeps, SendInput, Stored } from './sendTypes';

/**
 * Sending: the message takes its room's next seq from an atomic counter, its clientMsgId is recorded holding that
 * seq, and the message is put under it, each a conditional write of its own; the attempt that stored it publishes
 * it, and so does a retry with the same clientMsgId, which gets the first ack (docs/RELIABILITY.md, "The send path").
 * This file reads and answers; the writes of steps 2 to 4, and what a seq that cannot be held becomes, are
 * sendAttempts.ts's.
 */

/** What a sender whose message is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

/**
 * Stores a message under the room's next seq and publishes it. With a clientMsgId the send is idempotent: a retry
 * returns the first ack and publishes the stored message again (appending.ts publishStored: the fan-out queue keeps
 * one), so a message whose first attempt was refused, failed or died before its PutEvents still reaches the room.
 *
 * Round trips: the connection (with the frame limit on, the frame count's UpdateItem returns it); a send token and
 * the clientMsgId's record at once; the seq (`ADD`); the record; the message. No read of the room and no transaction.
 */
export async function sendMessage(
  deps: SendDeps,
  input: SendInput,
): Promise<{
  ack: AckFrame;
  message: ChatMessage;
  /** Runs the hooks' `onPublish` (sendHooks.ts): nothing for a retry answered from its record. */
  published: () => Promise<void>;
}> {
  // The connection is read once, by the first that asks for it (a hook's `begin` or the send).
  let read: Promise<Connection> | undefined;
  const connectionOnce = () => {
    read ??= requireConnection(deps, input.connectionId);
    return read;
  };
  const { parts, text } = await beginSend(deps.hooks ?? [], {
    body: input.body ?? {},
    text: input.text,
    connection: connectionOnce,
  });
  const connection = await connectionOnce();
  if (connection.roomId === LOBBY) await input.admitLobbyPost?.();
  // One read of the pair's blocks item, for direct messages only (functions/safety/screening.ts admitDirectSend).
  if (connection.roomId.length === DM_ROOM_CODE_LENGTH) await deps.admitDirect?.(connection);
  const sendKey = input.clientMsgId
    ? `${connection.roomId}#${senderOf(connection)}#${input.clientMsgId}`
    : undefined;
  const scope: SendScope = { connection, text, now: deps.now(), notes: new SendNotes() };
  const send: Send = { connection, input, parts, scope, sendKey, attempt: randomUUID() };
  let stored: Stored;
  try {
    stored = await store(deps, send);
  } catch (error) {
    // A take that woke the room and stored nothing still wakes it: the sends that took seqs since count on it.
    if (send.owesWake) await wakeUnstored(deps, connection.roomId, send.owesWake);
    throw error;
  }
  const { message, sentBefore } = stored;
  // The hooks' writes after the store go beside its publish; a retry answered from its record made them already.
  await Promise.all([
    publish(deps, message, stored.taken ? { taken: stored.taken } : { retry: true }),
    sentBefore ? undefined : afterStore(parts, message, scope),
  ]);
  // Answered from another attempt's record after this one's take woke the room: that wake.
  if (!stored.taken && send.owesWake) await wakeUnstored(deps, connection.roomId, send.owesWake);
  return {
    ack: ackOf(message, input.clientMsgId),
    message,
    published: () => {
      if (sentBefore) return Promise.resolve();
      const roomName = stored.taken?.roomName;
      return onPublish(parts, message, { ...scope, ...(roomName !== undefined && { roomName }) });
    },
  };
}

/**
 * Appends the message under the room's next seq, in an order that leaves nothing a retry cannot complete:
 *
 * 1. the clientMsgId's record is read (with the send token): a retry of a stored send answers from it, taking no seq;
 * 2. the seq is taken (`ADD`, refused once the room has ended);
 * 3. the record is put if absent, holding the seq: an attempt racing another of the same clientMsgId that finds the
 *    record there marks its own seq as a gap and answers the first attempt's ack, so one message is stored;
 * 4. the message is put if its seq is free.
 *
 * A crash after 2 leaves a gap no one marks (readers pass it after a bound, core/gaps.ts); after 3, a record without its
 * message, which the retry puts (1). A seq found holding an older event (the room's item was re-created after it
 * expired) moves the counter past the stored events and the send takes the next seq.
 */
async function store(deps: SendDeps, send: Send): Promise<Stored> {
  const { input, scope } = send;
  const { now } = scope;
  const { before, ...reads } = await readFirst(deps, send, now);
  const composed = await composeMessage(scope, send.parts, input, reads);
  const { messageAt } = composed;
  const expiresAt = epochSeconds(now) + deps.messageRetentionDays * 86400;
  if (before) {
    const answered = await answerRecorded(
      deps,
      send,
      before,
      messageAt(before.seq, before.messageId, before.sentAt),
      expiresAt,
    );
    if (answered) return answered;
    // The first attempt died before storing, and the fan-out fenced its seq since: this retry stores the message
    // under a new seq, taking the record over.
    const fenced = (seq: number) => messageAt(seq, before.messageId, before.sentAt);
    return storeFenced(deps, send, before, fenced, expiresAt);
  }
  // Answered Busy already (the deadline): nothing is taken, the retry sends it.
  if (input.signal?.aborted) throw new Busy();
  return appendNew(deps, send, composed, now, expiresAt);
}

/**
 * What a send reads before it takes a seq, all at once beside its tokens: the clientMsgId's record; the message
 * replied to (a reply costs a read, not a round trip); its attachments (HeadObject; a message without any reads
 * nothing more); the hooks' reads (sendHooks.ts `read`). A refused token aborts the hooks' `stop`: a send refused for
 * its rate costs its token writes, not a room's worth of reads (a flood's refusals are most of what it sends).
 */
async function readFirst(
  deps: SendDeps,
  send: Send,
  now: Date,
): Promise<FirstReads & { before?: SendRecord }> {
  const { connection, input, sendKey, parts, scope } = send;
  const { roomId } = connection;
  const owner = limitOwner(connection.userId, input.sourceIp);
  const connectionToken = () => orBusy(takeMessageToken(deps.connections, connection, now.getTime()), roomId);
  // A person's bucket this environment knows is still empty: refused before any read (personRate.ts).
  await refuseKnownEmpty(deps.person, 'send', owner, connectionToken);
  const refused = new AbortController();
  const token = (take: Promise<unknown>) =>
    take.catch((error: unknown) => {
      refused.abort();
      throw error;
    });
  const [, , before, original, attachments] = await Promise.all([
    token(connectionToken()),
    // The person's budget beside the connection's: ten connections of one sender share one (personRate.ts).
    token(orBusy(takePersonToken(deps.person, 'send', owner), roomId)),
    sendKey ? orBusy(deps.sends.recorded(sendKey), roomId) : undefined,
    input.replyTo === undefined
      ? undefined
      : orBusy(deps.sends.replyTarget(roomId, input.replyTo, epochSeconds(now)), roomId),
    input.attachments && attachmentsChecked(deps, roomId, input.attachments),
    ...parts.map((part) => part.read && orBusy(part.read(scope, refused.signal), roomId)),
  ]);
  return { before, original, attachments };
}

/** Publishes the stored message (on failure the sender is told to retry with the same clientMsgId, which publishes). */
function publish(deps: SendDeps, message: ChatMessage, by: WakeBy): Promise<void> {
  const { messageId, roomId, seq } = message;
  return publishStored(deps, { messageId, roomId, seq, frame: messageFrameOf(message) }, STORED_NOT_SENT, by);
}

function ackOf(message: ChatMessage, clientMsgId: string | undefined): AckFrame {
  return {
    type: 'ack',
    ...(clientMsgId ? { clientMsgId } : {}),
    messageId: message.messageId,
    roomId: message.roomId,
    seq: message.seq,
  };
}
