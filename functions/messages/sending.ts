import { randomUUID } from 'node:crypto';
import { orBusy } from '#core/busy';
import { Busy, SlowMode } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type PersonGate, refuseKnownEmpty, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { takeMessageToken } from '#core/limits/rateLimit';
import { memberKey, senderOf } from '#core/memberKeys';
import type { Connection, RoomLife } from '#core/ports';
import { type AckFrame, type ChatMessage, LOBBY } from '#core/protocol';
import { epochSeconds, roomTtl } from '#core/roomLife';
import { SendNotes } from '#core/sendNotes';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { type Attachment, DM_ROOM_CODE_LENGTH } from '#protocol';
import {
  APPEND_SEQS,
  catchUp,
  publishStored,
  sendRecordOf,
  type Taken,
  takeRoomSeq,
  type WakeBy,
  wakeUnstored,
} from './appending';
import { messageFrameOf, type StoredMessage } from './changeFrames';
import {
  attachmentsChecked,
  type ComposeDeps,
  type Composed,
  composeMessage,
  type FirstReads,
} from './composing';
import type { MessagePorts, SendRecord, SendSettings } from './ports';
import {
  afterStore,
  beforePut,
  beginSend,
  onPublish,
  type SendHook,
  type SendPart,
  type SendScope,
} from './sendHooks';

/**
 * Sending: the message takes its room's next seq from an atomic counter, its clientMsgId is recorded holding that
 * seq, and the message is put under it, each a conditional write of its own; the attempt that stored it publishes
 * it, and so does a retry with the same clientMsgId, which gets the first ack (docs/RELIABILITY.md, "The send path").
 */

/** What a sender whose message is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The message was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

/** Exported for tests: the port the send tests build from real adapters. */
export type SendDeps = Pick<MessagePorts, 'connections' | 'sends' | 'events' | 'now'> &
  SendSettings &
  ComposeDeps & {
    /** The sender's budget across its connections (personRate.ts); absent: only the connection's own. */
    person?: PersonGate;

    /**
     * Lets a send into a direct-message room through or throws: refused where either of the pair blocks the other
     * (functions/safety/screening.ts); absent: not checked.
     */
    admitDirect?: (sender: Connection) => Promise<void>;

    /**
     * Slow mode's turn (core/moderation.ts): takes the turn `key` at `nowMs` if its last was `intervalMs` ago or more,
     * answering 0, else the ms left to wait (one conditional write, dynamoGuard.ts takeTurnOrWait); absent: no slow
     * mode.
     */
    slowTurn?: (key: string, nowMs: number, intervalMs: number) => Promise<number>;

    /** The features that take part in a send, in order (sendHooks.ts, listed in sendFeatures.ts); absent: none. */
    hooks?: readonly SendHook[];
  };

interface SendInput {
  connectionId: string;
  text: string;
  clientMsgId?: string;
  /** Aborted when the sender was already answered Busy: then nothing is stored (its retry stores it). */
  signal?: AbortSignal;
  /** Lets a post to the lobby through or throws (the lobby policy, lobby.ts); absent = the lobby is open to all. */
  admitLobbyPost?: () => Promise<void>;
  /** The seq of the message in the same room this one replies to (parseReplyTo). */
  replyTo?: number;
  /** Uploaded images of the room (parseAttachments), each read back before the message is stored. */
  attachments?: Attachment[];
  /** The sender's address: without sign-in, its source is whose budget the send takes from (limitOwner). */
  sourceIp?: string;
  /** The frame as the client sent it: the hooks read their own fields of it (sendHooks.ts `begin`). */
  body?: Readonly<Record<string, unknown>>;
}

/** One send: who, where, and the attempt's id (the attempt its record names). */
interface Send {
  connection: Connection;
  input: SendInput;
  /** The hooks' parts in this send, and what they see of it. */
  parts: readonly SendPart[];
  scope: SendScope;
  sendKey?: string;
  attempt: string;
  /** A take of this send that woke the room, while its event is not stored yet. */
  owesWake?: Taken;
}

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
    published: () => (sentBefore ? Promise.resolve() : onPublish(parts, message, scope)),
  };
}

/** Puts a message under its seq, after the hooks' writes it counts on (sendHooks.ts `beforePut`). */
async function putMessage(
  deps: SendDeps,
  send: Send,
  message: StoredMessage,
  expiresAt: number,
): Promise<boolean> {
  await orBusy(beforePut(send.parts, message, expiresAt), message.roomId);
  return deps.sends.put(message, expiresAt);
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

/** What store gives sendMessage. */
interface Stored {
  message: ChatMessage;
  sentBefore?: SendRecord;
  /** The take that stored it (absent: answered from its record, a retry). */
  taken?: Taken;
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

/**
 * A message is activity: the write that takes the seq moves the room's end on by RoomIdleDays, read from the
 * settings in force (the lobby never ends), and refuses a room that has ended, whether or not DynamoDB's TTL has
 * deleted its item yet.
 */
function roomLifeOf({ connection, scope }: Send, now: Date): RoomLife | undefined {
  const { roomId } = connection;
  if (roomId === LOBBY) return undefined;
  return {
    nowSeconds: epochSeconds(now),
    ttl: roomTtl(now, settings().RoomIdleDays),
    shownAs: connection.username,
    memberKey: memberKey(roomId, senderOf(connection)),
    userId: connection.userId,
    text: scope.text,
  };
}

/**
 * Steps 2 to 4 for a send no attempt recorded yet: takes seqs until the message is put under one (a seq holding an
 * older event moves the counter on), recording the clientMsgId under the seq first.
 */
async function appendNew(
  deps: SendDeps,
  send: Send,
  composed: Composed,
  now: Date,
  expiresAt: number,
): Promise<Stored> {
  const { roomId } = send.connection;
  const { messageAt, authorKey } = composed;
  const record = send.sendKey ? sendRecordOf(send.sendKey, send.attempt, now) : undefined;
  const life = roomLifeOf(send, now);
  const messageId = randomUUID();
  let recordedSeq: number | undefined;
  for (let tries = 0; tries < APPEND_SEQS; tries++) {
    const taken = await takeRoomSeq(deps, roomId, now, life, expiresAt);
    // A wake owed by an earlier take of this send (its seq held an older event) passes to this one.
    if (send.owesWake?.wakes) taken.wakes = true;
    if (taken.wakes) send.owesWake = taken;
    const { seq } = taken;
    if (tries === 0)
      await slowModeTurn(deps, roomId, authorKey, taken, now, () => markUnheld(deps, roomId, seq, expiresAt));
    const stored = messageAt(seq, messageId, now.toISOString());
    const first = record && (await recordAt(deps, send, record, recordedSeq, stored, expiresAt));
    if (first) return first;
    recordedSeq = seq;
    let put: boolean;
    try {
      put = await orBusy(putMessage(deps, send, stored, expiresAt), roomId);
    } catch (error) {
      if (!record && error instanceof Busy) await markUnheld(deps, roomId, seq, expiresAt);
      throw error;
    }
    if (put) return { message: stored, taken };
    // The seq may hold this very message: a retry of this clientMsgId found the record and put the message under its
    // seq while this attempt's put was on its way (held back by throttling retries). Moving on would store it twice.
    const there = await orBusy(deps.sends.message(roomId, seq), roomId);
    if (there?.messageId === messageId) return { message: there, taken };
    // The seq holds an older event: the room's counter is behind what it stored (its item was re-created).
    await catchUp(deps, roomId);
  }
  throw new Busy('dynamodb-throttling');
}

/**
 * Step 3: the clientMsgId's record put holding the seq `stored` took, or moved to it from the seq this attempt
 * recorded before. A record another attempt put first answers that attempt's ack, this seq marked a gap.
 */
async function recordAt(
  deps: SendDeps,
  send: Send,
  record: ReturnType<typeof sendRecordOf>,
  recordedSeq: number | undefined,
  stored: StoredMessage,
  expiresAt: number,
): Promise<{ message: ChatMessage; sentBefore: SendRecord } | undefined> {
  const { roomId, seq } = stored;
  try {
    if (recordedSeq !== undefined) {
      if (!(await orBusy(deps.sends.moveRecord(record.sendKey, record.attempt, recordedSeq, seq), roomId)))
        throw new Error(`send ${record.sendKey} lost its record while moving it to seq ${seq}`);
      return undefined;
    }
    const first = await orBusy(deps.sends.record(stored, record), roomId);
    if (!first) return undefined;
    await orBusy(deps.sends.markGap(roomId, seq, expiresAt), roomId);
    const answered = await answerRecorded(
      deps,
      send,
      first,
      { ...stored, seq: first.seq, messageId: first.messageId, sentAt: first.sentAt },
      expiresAt,
    );
    // The record's seq was fenced: the attempt that holds it died; this one does not take it over (it took its own
    // seq and gave it up above): it answers Busy, and the client's retry takes it over.
    if (!answered) throw new Busy();
    return answered;
  } catch (error) {
    // Refused before the record held this seq: nothing will ever be stored under it. Marked a gap now, the room's
    // fan-out passes it at once instead of waiting for it (core/gaps.ts) with every later message behind it.
    if (error instanceof Busy) await markUnheld(deps, roomId, seq, expiresAt);
    throw error;
  }
}

/**
 * Slow mode (core/moderation.ts): a member's message takes the room's turn for that member, one conditional write in
 * the Limits table (`slow#<roomId>#<memberKey>`), after the take that read the room's slow mode from the room's item
 * (sending reads no room). A message inside the interval is refused SLOW_MODE with the seconds left, its seq marked a
 * gap at once (`giveUp`): the fan-out passes it without waiting. The owner and moderators are exempt.
 */
async function slowModeTurn(
  deps: SendDeps,
  roomId: string,
  key: string,
  taken: Taken,
  now: Date,
  giveUp: () => Promise<void>,
): Promise<void> {
  const seconds = taken.slowModeSeconds ?? 0;
  if (seconds <= 0 || taken.exempt || !deps.slowTurn) return;
  let waitMs: number;
  try {
    waitMs = await orBusy(deps.slowTurn(`slow#${roomId}#${key}`, now.getTime(), seconds * 1000), roomId);
  } catch (error) {
    await giveUp();
    throw error;
  }
  if (waitMs <= 0) return;
  await giveUp();
  throw new SlowMode(seconds, Math.max(1, Math.ceil(waitMs / 1000)));
}

/**
 * Marks a seq this attempt took and no record holds as a gap, after DynamoDB refused the attempt's next write (a
 * refusal, Busy: nothing of it was written). A send without a clientMsgId holds its seq only by its message, so its
 * refused put is marked too; a record that holds its seq is left alone, its retry puts the message there. Best effort:
 * if the mark is refused as well, the fan-out fences the seq after 1.5 s (deliver/roomLog.ts).
 */
async function markUnheld(deps: SendDeps, roomId: string, seq: number, expiresAt: number): Promise<void> {
  try {
    await deps.sends.markGap(roomId, seq, expiresAt);
  } catch (error) {
    logger.warn('a refused send left its seq unmarked', { roomId, seq, error: (error as Error).name });
  }
}

/**
 * A clientMsgId sent before, answered from its record: the stored message, put now if its first attempt recorded
 * the seq and died before putting it (`unsent`: this attempt's message under the record's seq and messageId).
 * Undefined when that seq was fenced meanwhile (a gap marker stands there: storeFenced takes over).
 */
async function answerRecorded(
  deps: SendDeps,
  send: Send,
  record: SendRecord,
  unsent: StoredMessage,
  expiresAt: number,
): Promise<{ message: ChatMessage; sentBefore: SendRecord } | undefined> {
  const { roomId, seq } = unsent;
  let stored = await deps.sends.message(roomId, seq);
  if (!stored && (await putMessage(deps, send, unsent, expiresAt))) stored = unsent;
  stored ??= await deps.sends.message(roomId, seq);
  if (!stored && (await deps.sends.isGap(roomId, seq))) return undefined;
  // The record's first attempt is moving it off a seq that holds an older event: its ack comes with its retry.
  if (stored?.messageId !== record.messageId) throw new Busy();
  return { message: stored, sentBefore: record };
}

/**
 * A retry whose record holds a seq the fan-out fenced (its first attempt died between recording the seq and storing
 * the message, and the seq was given up: deliver/roomLog.ts): the message is stored under a new seq, the record moved
 * there and to this attempt. Another retry that took it over first answers for it: this one is told to retry.
 */
async function storeFenced(
  deps: SendDeps,
  send: Send,
  record: SendRecord,
  messageAt: (seq: number) => StoredMessage,
  expiresAt: number,
): Promise<{ message: ChatMessage; sentBefore: SendRecord; taken: Taken }> {
  const { roomId } = send.connection;
  const now = deps.now();
  const life = roomLifeOf(send, now);
  let from = record.seq;
  for (let tries = 0; tries < APPEND_SEQS; tries++) {
    const taken = await takeRoomSeq(deps, roomId, now, life, expiresAt);
    if (taken.wakes) send.owesWake = taken;
    if (!(await orBusy(deps.sends.takeOverRecord(record.sendKey, send.attempt, from, taken.seq), roomId))) {
      await markUnheld(deps, roomId, taken.seq, expiresAt);
      throw new Busy();
    }
    from = taken.seq;
    const stored = messageAt(taken.seq);
    if (await orBusy(putMessage(deps, send, stored, expiresAt), roomId))
      return { message: stored, sentBefore: { ...record, seq: taken.seq }, taken };
    await catchUp(deps, roomId);
  }
  throw new Busy('dynamodb-throttling');
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
