import { Busy, busyFrom, PublishFailed, RoomClosed, RoomNotFound } from '#core/errors';
import type { RoomLife, RoomWake } from '#core/ports';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import type { MessagePorts } from './ports';

/**
 * Appending to a room, for a message (sending.ts) and a change to one (messages/changing.ts) alike: the room's next seq
 * taken by an atomic counter, and publishing what was stored (docs/RELIABILITY.md, "The send path").
 */

/** Seqs one append takes at most: more than one only when it finds its seq already holding an older event. */
const MAX_SEQS = 3;

/**
 * Runs a step of an append; a limit that outlasted the retries becomes Busy (retry with the same clientMsgId, which
 * stores nothing twice), logged with the room and the limit met: DynamoDB throttling past the SDK's retries, or an
 * item held by other transactions past retryingConflicts' tries (the room's item by an owner's change).
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
): Promise<Taken> {
  // A take that began its tick and was marked a gap leaves the tick's wake to the next take.
  let wakes = false;
  for (let tries = 0; tries < MAX_SEQS; tries++) {
    const at = now.getTime();
    const taken = await orBusy(deps.sends.takeSeq(roomId, at, life), roomId);
    if (taken.kind === 'noRoom') throw new RoomNotFound(roomId);
    if (taken.kind === 'roomGone') throw new RoomClosed(roomId, roomEnd(taken.room, now) ?? 'expired');
    wakes ||= taken.wakes;
    const result = { seq: taken.seq, wakes, tick: wakeTick(at), takenAt: Date.now() };
    if (taken.seq > 1) return result;
    if (!(await catchUp(deps, roomId))) return result;
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

/**
 * Wakes (docs/DECISIONS.md, "The fan-out at AWS's scale"). The fan-out queue takes at most one wake per room per
 * WAKE_TICK_MS, not one message per event: the send whose seq take begins a new tick (its `seqAt` in another tick than
 * the previous take's) publishes a `RoomWake` after storing its event, and the execution it starts reads everything
 * stored since the room's cursor from the log, waiting for the seqs of its tick still being stored (deliver/roomLog.ts).
 * A send also wakes the room when no waker may cover it: a retry of a clientMsgId (it cannot know whether an earlier
 * attempt's publish went through), and a straggler, whose store ended more than STRAGGLER_MS after its take (the
 * fan-out may have passed its seq as never stored; it posts it as a late message).
 */
export const WAKE_TICK_MS = 100;
/** Below the fan-out's HOLE_PASS_MS (deliver/roomLog.ts), so a seq it passes always wakes the room itself. */
export const STRAGGLER_MS = 1_000;

export const wakeTick = (at: number) => Math.floor(at / WAKE_TICK_MS);

/** A seq taken: its tick, whether it began the tick (`wakes`), and when the take came back (this clock, epoch ms). */
export interface Taken {
  seq: number;
  wakes: boolean;
  tick: number;
  takenAt: number;
}

/** How a publish wakes the room: the take behind it, or a retry (which always wakes). */
export type WakeBy = { taken: Taken } | { retry: true };

/** The wake a stored event's publish carries, if any (above). */
export function wakeOf(
  stored: { roomId: string; seq: number },
  by: WakeBy,
  now = Date.now(),
): RoomWake | undefined {
  const { roomId, seq } = stored;
  const base = { type: 'RoomWake' as const, messageId: `wake:${roomId}:${seq}`, roomId, seq };
  if ('retry' in by) return base;
  if (by.taken.wakes) return { ...base, tick: by.taken.tick };
  if (now - by.taken.takenAt > STRAGGLER_MS) return base;
  return undefined;
}

/**
 * The takes of one append: a take that began its tick owes the room its wake until an event of the append is
 * published, passing it to the append's next take (its seq held an older event, or was left unused) or, if none is
 * published, waking the room without one (wakeUnstored).
 */
export class Takes {
  private owed: Taken | undefined;

  constructor(
    private readonly deps: Pick<MessagePorts, 'events'>,
    private readonly roomId: string,
  ) {}

  /** A new take, waking for an earlier one whose wake is owed. */
  note(taken: Taken): Taken {
    if (this.owed) taken.wakes = true;
    if (taken.wakes) this.owed = taken;
    return taken;
  }

  /** An event of the append was published with its take's wake. */
  published(): void {
    this.owed = undefined;
  }

  /** The append ends without publishing: the owed wake, alone. */
  async unstored(): Promise<void> {
    const owed = this.owed;
    this.owed = undefined;
    if (owed) await wakeUnstored(this.deps, this.roomId, owed);
  }
}

/**
 * Wakes the room for a take whose event was not stored (the append failed after taking it): the tick's other senders
 * count on its waker. Best effort: a failure is logged, and those messages wait for the room's next wake.
 */
export async function wakeUnstored(
  deps: Pick<MessagePorts, 'events'>,
  roomId: string,
  taken: Taken,
): Promise<void> {
  if (!taken.wakes) return;
  try {
    await deps.events.publish([
      {
        type: 'RoomWake',
        messageId: `wake:${roomId}:${taken.seq}`,
        roomId,
        seq: taken.seq,
        tick: taken.tick,
      },
    ]);
  } catch (error) {
    logger.warn('a failed append could not wake its room', {
      roomId,
      seq: taken.seq,
      error: (error as Error).name,
    });
  }
}

/** One stored event to publish. */
export interface StoredEvent {
  messageId: string;
  roomId: string;
  seq: number;
  /** The frame members get, serialized by `eventPayload`. */
  payload: string;
}

/**
 * The payload an event carries: the frame as JSON, with the keys of every object inside it in one order (the frame's
 * own keys stay in the order its builder gives, `type` first). A stored event may be published by more than one
 * attempt (below), one holding it as built and one as read back from DynamoDB, whose maps promise no key order; the
 * same bytes make the same event detail, which the fan-out queue keeps once.
 */
export function eventPayload(frame: object): string {
  return JSON.stringify(frame, (key, value: unknown) =>
    key !== '' && typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

/**
 * Publishes a stored event to its room: its `MessageSent` event for the bus's consumers and, when it wakes the room
 * (wakeOf), its `RoomWake` for the fan-out, in one PutEvents. Every attempt that finds its event stored publishes it:
 * the one that stored it, and each retry of its clientMsgId, which cannot know whether an earlier attempt's PutEvents
 * went through (it failed, or its invocation answered and was frozen or shut down before it); the fan-out posts a seq
 * once from the log, and a repeat of one already posted is a seq the client holds and drops. On failure the sender is
 * told the event is stored and a retry publishes it (`storedNotSent`).
 */
export async function publishStored(
  deps: Pick<MessagePorts, 'events'>,
  stored: StoredEvent,
  storedNotSent: string,
  by: WakeBy,
): Promise<void> {
  const { messageId, roomId, seq, payload } = stored;
  const wake = wakeOf(stored, by);
  try {
    await deps.events.publish([
      { type: 'MessageSent', messageId, roomId, seq, payload },
      ...(wake ? [wake] : []),
    ]);
  } catch (error) {
    throw error instanceof PublishFailed ? error.told(storedNotSent) : error;
  }
}

/** How long a clientMsgId's record is kept: a retry within it gets the first reply. */
const SEND_RECORD_TTL_SECONDS = 24 * 3600;

/** The record an attempt writes with its event under a clientMsgId: the attempt (which alone may move it) and its end. */
export function sendRecordOf(sendKey: string, attempt: string, now: Date) {
  return { sendKey, attempt, expiresAt: epochSeconds(now) + SEND_RECORD_TTL_SECONDS };
}
