import { Busy, busyFrom, PublishFailed, RoomClosed, RoomNotFound } from '#core/errors';
import type { RoomLife } from '#core/ports';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import type { MessagePorts, SendRecord } from './ports';

/**
 * Appending to a room, for a message (sending.ts) and a change to one (messages/changing.ts) alike: the room's next seq
 * taken by an atomic counter, and publishing what was stored (docs/RELIABILITY.md, "The send path").
 */

/** Seqs one append takes at most: more than one only when it finds its seq already holding an older event. */
const MAX_SEQS = 3;

/**
 * Runs a step of an append; a limit that outlasted the retries becomes Busy (retry with the same clientMsgId, which
 * stores nothing twice), logged with the room and the limit met: DynamoDB throttling past the SDK's retries, or an
 * item held by other transactions past retryingConflicts' tries (the room's item by joins).
 */
export async function orBusy<T>(step: Promise<T>, roomId: string): Promise<T> {
  try {
    return await step;
  } catch (error) {
    const busy = busyFrom(error);
    if (!busy || error instanceof Busy) throw error;
    logger.warn(`room at a limit: ${busy.limit}`, {
      limit: busy.limit,
      roomId,
      error: (error as Error).name,
    });
    throw busy;
  }
}

/**
 * Takes the room's next seq (one atomic `ADD`, refused once the room has ended). A room's first seq is checked against
 * its stored events: a room re-created after its item expired (a DM room opened again) continues after the highest
 * seq its messages hold, never over them. The seq 1 it then leaves is marked a gap (`expiresAt`, the gap's TTL): the
 * events found may as well be those of other senders who took seqs 2, 3 … at the same moment, and an unmarked seq 1
 * would hold the room's readers until the gap bound.
 */
export async function takeRoomSeq(
  deps: Pick<MessagePorts, 'sends'>,
  roomId: string,
  now: Date,
  life: RoomLife | undefined,
  expiresAt: number,
): Promise<number> {
  for (let tries = 0; tries < MAX_SEQS; tries++) {
    const taken = await orBusy(deps.sends.takeSeq(roomId, now.getTime(), life), roomId);
    if (taken.kind === 'noRoom') throw new RoomNotFound(roomId);
    if (taken.kind === 'roomGone') throw new RoomClosed(roomId, roomEnd(taken.room, now) ?? 'expired');
    if (taken.seq > 1) return taken.seq;
    if (!(await catchUp(deps, roomId))) return taken.seq;
    // A re-created room's seq 1 holds an old event, which the gap's put-if-absent leaves as it is.
    await orBusy(deps.sends.markGap(roomId, taken.seq, expiresAt), roomId);
  }
  throw new Busy('dynamodb-throttling');
}

/**
 * Moves the room's counter past the highest seq its stored events hold, when it is behind them (the room's item was
 * re-created): true when it was, and the seq taken must be taken again.
 */
export async function catchUp(deps: Pick<MessagePorts, 'sends'>, roomId: string): Promise<boolean> {
  const newest = await orBusy(deps.sends.newestSeq(roomId), roomId);
  if (newest === 0) return false;
  await orBusy(deps.sends.raiseSeq(roomId, newest), roomId);
  return true;
}

/** How many seqs an append may take before it gives up (Busy): its seq found holding an older event each time. */
export const APPEND_SEQS = MAX_SEQS;

/** One stored event to publish, and the attempt that stored it (the publisher its send record names). */
export interface StoredEvent {
  messageId: string;
  roomId: string;
  seq: number;
  /** The frame members get, serialized. */
  payload: string;
  sendKey?: string;
  attempt: string;
}

/**
 * Publishes a stored event to its room; on failure hands publishing back, so a retry with the same clientMsgId does
 * it, and tells the sender so (`storedNotSent`). `what` names the event in the log ("message", "change").
 */
export async function publishStored(
  deps: Pick<MessagePorts, 'events' | 'sends'>,
  stored: StoredEvent,
  what: string,
  storedNotSent: string,
): Promise<void> {
  const { messageId, roomId, seq, payload, sendKey, attempt } = stored;
  try {
    await deps.events.publish([{ type: 'MessageSent', messageId, roomId, seq, payload }]);
  } catch (error) {
    if (sendKey)
      await deps.sends
        .releasePublishing(sendKey, attempt)
        .catch((cause: unknown) =>
          logger.error(`a stored ${what} could not be handed back for publishing`, cause as Error),
        );
    throw error instanceof PublishFailed ? error.told(storedNotSent) : error;
  }
}

/** How long a clientMsgId's record is kept: a retry within it gets the first reply. */
const SEND_RECORD_TTL_SECONDS = 24 * 3600;
/** A publisher with no invocation deadline (outside Lambda) holds publishing this long: sendmessage's timeout. */
const PUBLISH_WITHOUT_DEADLINE_MS = 10_000;

/**
 * The record an attempt writes with its event under a clientMsgId: it publishes the event, until its invocation ends
 * (`deadline`, epoch ms).
 */
export function sendRecordOf(sendKey: string, attempt: string, now: Date, deadline: number | undefined) {
  return {
    sendKey,
    publisher: attempt,
    publishUntil: deadline ?? now.getTime() + PUBLISH_WITHOUT_DEADLINE_MS,
    expiresAt: epochSeconds(now) + SEND_RECORD_TTL_SECONDS,
  };
}

/**
 * Whether a retry (`attempt`, whose invocation ends at `deadline`) publishes the event its clientMsgId stored before:
 * when nobody publishes it, because its publisher handed publishing back or that publisher's invocation has ended. On
 * Lambda an invocation that answered (busy, before its timeout) is frozen at once, and its environment may be shut
 * down before its PutEvents: the event would reach the room only with the room's next one. Only one attempt
 * publishes: the first stops at its publishUntil (sending.ts, changing.ts), a retry takes over only after it. Should
 * both publish anyway, Prepare drops a repeat within one batch and the client drops a seq it already has.
 */
export async function takesPublishing(
  deps: Pick<MessagePorts, 'sends' | 'now'>,
  record: SendRecord,
  attempt: string,
  deadline: number | undefined,
): Promise<boolean> {
  const now = deps.now().getTime();
  if (record.publisher !== undefined && !((record.publishUntil ?? Infinity) < now)) return false;
  const taken = await deps.sends.takePublishing(record.sendKey, attempt, {
    now,
    until: deadline ?? now + PUBLISH_WITHOUT_DEADLINE_MS,
  });
  // Taken from a publisher that neither handed it back nor had time left: its PutEvents may have gone through, and
  // the event reaches the bus twice (the fan-out queue keeps one: template.yaml, RoomEventsRule).
  if (taken && record.publisher !== undefined)
    logger.warn('publishing taken over from an attempt past its time', {
      messageId: record.messageId,
      seq: record.seq,
    });
  return taken;
}
