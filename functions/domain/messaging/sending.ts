import { randomUUID } from 'node:crypto';
import { Busy, RoomClosed, RoomNotFound } from '../../platform/errors';
import { type AckFrame, type ChatMessage, LOBBY, toMessageFrame } from '../../platform/protocol';
import { requireConnection } from '../identity/connections';
import { takeSendToken } from '../limits/rateLimit';
import type { ChatPorts, Connection, SendRecord, SendSettings } from '../ports';
import { epochSeconds, roomEnd, roomTtl } from '../rooms/roomLife';
import { AppendTries, publishStored, sendRecordOf, takesPublishing } from './appending';
import { memberKey, type StoredMessage, senderOf } from './changes/frames';

/**
 * Sending: the message is stored under its room's next seq, and the send recorded under its clientMsgId, in one
 * DynamoDB transaction; the attempt that stored it publishes it; a retry with the same clientMsgId gets the first ack
 * (docs/RELIABILITY.md, "The send path").
 */

/** What a sender whose message is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

export type SendDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'sends' | 'events' | 'now'> & SendSettings;

export interface SendInput {
  connectionId: string;
  text: string;
  clientMsgId?: string;
  /** Aborted when the sender was already answered Busy: then nothing is stored (its retry stores it). */
  signal?: AbortSignal;
  /** Lets a post to the lobby through or throws (the lobby policy, lobby.ts); absent = the lobby is open to all. */
  admitLobbyPost?: () => Promise<void>;
  /** When this invocation ends (epoch ms): the record's publishUntil. */
  deadline?: number;
}

/** One send: who, where, and the attempt's id (the publisher its record names). */
interface Send {
  connection: Connection;
  input: SendInput;
  sendKey?: string;
  attempt: string;
}

/**
 * Stores a message under the room's next seq and publishes it. With a clientMsgId the send is idempotent: a retry
 * returns the first ack, and publishes only if the attempt that stored the message handed publishing back.
 *
 * Three sequential DynamoDB round trips before PutEvents, none after: read the connection (with the frame limit
 * on, the frame count's UpdateItem returns it: `servedFrom`); read the room's seq and take a send token at once;
 * the transaction.
 */
export async function sendMessage(
  deps: SendDeps,
  input: SendInput,
): Promise<{ ack: AckFrame; message: ChatMessage }> {
  const connection = await requireConnection(deps, input.connectionId);
  if (connection.roomId === LOBBY) await input.admitLobbyPost?.();
  const sendKey = input.clientMsgId
    ? `${connection.roomId}#${senderOf(connection)}#${input.clientMsgId}`
    : undefined;
  const send: Send = { connection, input, sendKey, attempt: randomUUID() };
  const { message, sentBefore } = await store(deps, send);
  if (!sentBefore || (await takesPublishing(deps, sentBefore, send.attempt, input.deadline)))
    await publish(deps, send, message);
  return { ack: ackOf(message, input.clientMsgId), message };
}

/**
 * Appends the message with the room's next seq. A lost race for the seq is retried at once with the seq the
 * cancellation names; a transaction conflict after a short pause and a fresh read. A clientMsgId sent before
 * returns its stored message instead.
 */
async function store(deps: SendDeps, send: Send): Promise<{ message: ChatMessage; sentBefore?: SendRecord }> {
  const { connection, input, sendKey } = send;
  const { roomId } = connection;
  const now = deps.now();
  const [room] = await Promise.all([
    deps.rooms.get(roomId),
    deps.sendRate && takeSendToken(deps.connections, connection, deps.sendRate, now.getTime()),
  ]);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  // A message is activity: the same write that takes the seq moves the room's end on (the lobby never ends), and
  // refuses a room that has ended (roomGone), whether or not DynamoDB's TTL has deleted its item yet.
  const life =
    roomId === LOBBY ? undefined : { nowSeconds: epochSeconds(now), ttl: roomTtl(now, deps.roomIdleDays) };
  let roomSeq = room?.seq;
  const messageId = randomUUID();
  const authorKey = memberKey(roomId, senderOf(connection));
  const expiresAt = epochSeconds(now) + deps.messageRetentionDays * 86400;
  const record = sendKey && sendRecordOf(sendKey, send.attempt, now, input.deadline);
  for (const tries = new AppendTries(input.signal); tries.another(); ) {
    // The author's key goes with the message, so its author (and only it) can edit it later (changes/).
    const message: StoredMessage = {
      authorKey,
      roomId,
      seq: (roomSeq ?? 0) + 1,
      messageId,
      username: connection.username,
      text: input.text,
      sentAt: now.toISOString(),
      ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
    };
    const outcome = await deps.sends.append(message, roomSeq, expiresAt, record || undefined, life);
    if (outcome.kind === 'stored') return { message };
    if (outcome.kind === 'roomGone') throw new RoomClosed(roomId, roomEnd(outcome.room, now) ?? 'expired');
    if (outcome.kind === 'sentBefore') {
      const stored = await deps.sends.message(roomId, outcome.record.seq);
      if (!stored) throw new Error(`send ${outcome.record.sendKey} is recorded without its message`);
      return { message: stored, sentBefore: outcome.record };
    }
    if (outcome.kind === 'seqTaken') roomSeq = outcome.roomSeq;
    else {
      await tries.pauseAfterConflict();
      roomSeq = (await deps.rooms.get(roomId))?.seq;
    }
  }
  // Out of patience (appending.ts): the sender retries its clientMsgId.
  throw new Busy();
}

/** Publishes the stored message; on failure hands publishing back, so a retry with the same clientMsgId does it. */
function publish(deps: SendDeps, send: Send, message: ChatMessage): Promise<void> {
  const { messageId, roomId, seq } = message;
  const payload = JSON.stringify(toMessageFrame(message));
  const stored = { messageId, roomId, seq, payload, sendKey: send.sendKey, attempt: send.attempt };
  return publishStored(deps, stored, 'message', STORED_NOT_SENT);
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
