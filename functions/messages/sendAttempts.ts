import { randomUUID } from 'node:crypto';
import { orBusy } from '#core/busy';
import { Busy, SlowMode } from '#core/errors';
import { memberKey, senderOf } from '#core/memberKeys';
import type { RoomLife } from '#core/ports';
import { type ChatMessage, LOBBY } from '#core/protocol';
import { epochSeconds, roomTtl } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { APPEND_SEQS, catchUp, sendRecordOf, type Taken, takeRoomSeq } from './appending';
import type { StoredMessage } from './changeFrames';
import type { Composed } from './composing';
import type { SendRecord } from './ports';
import { beforePut } from './sendHooks';
import type { Send, SendDeps, Stored } from './sendTypes';

/**
 * One send attempt's writes, steps 2 to 4 of sending.ts `store`: every seq an attempt takes ends holding its message,
 * held by the clientMsgId's record (the retry puts the message there), or marked a gap, so the fan-out never waits
 * for a seq no one will fill. A new send takes seqs until its message is put (appendNew); a retry answers from the
 * record (answerRecorded) or, when the fan-out fenced the record's seq, stores the message under a new one
 * (storeFenced).
 */

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
export async function appendNew(
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
export async function answerRecorded(
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
export async function storeFenced(
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
