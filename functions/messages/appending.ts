import { orBusy } from '#core/busy';
import { Busy, Muted, NotSubscribed, PublishFailed, RoomClosed, RoomNotFound } from '#core/errors';
import { untilText } from '#core/moderation';
import type { RoomLife, RoomWake } from '#core/ports';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { type ChangeFrame, type MessageFrame, mayPush } from '#protocol';
import { FilteredWords, findWords } from '#safety/filter';
import type { MessagePorts } from './ports';

/**
 * Appending to a room, for a message (sending.ts) and a change to one (messages/changing.ts) alike: the room's next seq
 * taken by an atomic counter, and publishing what was stored (docs/RELIABILITY.md, "The send path").
 */

/** Seqs one append takes at most: more than one only when it finds its seq already holding an older event. */
const MAX_SEQS = 3;

/**
 * Takes the room's next seq (one atomic `ADD`, refused once the room has ended). A room's first seq is checked against
 * its stored events: a room re-created after its item expired (a DM room opened again) continues after the highest
 * seq its messages hold, never over them. The seq 1 it then leaves is marked a gap (`expiresAt`, the gap's TTL): the
 * events found may as well be those of other senders who took seqs 2, 3 … at the same moment, and an unmarked seq 1
 * would hold the room's readers until the gap bound.
 */
export async function takeRoomSeq(
  deps: Pick<MessagePorts, 'sends' | 'events'>,
  roomId: string,
  now: Date,
  life: RoomLife | undefined,
  expiresAt: number,
): Promise<Taken> {
  // A take that woke the room and was marked a gap leaves the wake to the next take.
  let woke = false;
  for (let tries = 0; tries < MAX_SEQS; tries++) {
    const at = now.getTime();
    const taken = await orBusy(deps.sends.takeSeq(roomId, at, life), roomId);
    if (taken.kind === 'noRoom') throw new RoomNotFound(roomId);
    // Refused by the room's moderation item after the take: the seq is given up (a gap), its wake still owed.
    if ((taken.kind === 'removed' || taken.kind === 'muted') && taken.given)
      await giveUp(deps, roomId, taken.given, woke, expiresAt);
    // The owner removed the author's name: its connection is out of the room, listed by the room index or not.
    if (taken.kind === 'removed') throw new NotSubscribed(roomId);
    if (taken.kind === 'muted') throw new Muted(roomId, untilText(taken.until));
    if (taken.kind === 'roomGone') throw new RoomClosed(roomId, roomEnd(taken.room, now) ?? 'expired');
    woke ||= taken.wakes;
    // The room's own words (roomwords): a text holding one is refused, its seq given up as a mute's is.
    const held = roomWordsIn(life?.text, taken.roomWords);
    if (held.length > 0) {
      await giveUp(deps, roomId, { seq: taken.seq, wakes: taken.wakes }, woke, expiresAt);
      throw new FilteredWords(held, ROOM_WORDS_REFUSAL);
    }
    const result: Taken = {
      seq: taken.seq,
      wakes: woke,
      ...(taken.roomName !== undefined && { roomName: taken.roomName }),
      ...(taken.slowModeSeconds !== undefined && {
        slowModeSeconds: taken.slowModeSeconds,
        exempt: taken.exempt,
      }),
    };
    if (taken.seq > 1) return result;
    if (!(await catchUp(deps, roomId))) return result;
    // A re-created room's seq 1 holds an old event, which the gap's put-if-absent leaves as it is.
    await orBusy(deps.sends.markGap(roomId, taken.seq, expiresAt), roomId);
  }
  throw new Busy('dynamodb-throttling');
}

const ROOM_WORDS_REFUSAL = "Your message holds a word this room doesn't allow: reword it and send again.";

/** The room's words `text` holds (none when either is absent). */
const roomWordsIn = (text: string | undefined, words: string[] | undefined): string[] =>
  text === undefined || words === undefined || words.length === 0
    ? []
    : findWords(text, words.join(',')).matched;

/**
 * Gives up a seq taken and then refused (the author muted or removed, by the room's moderation item): marked a gap at
 * once, so members pass it without a wait (core/gaps.ts); a take that woke the room (or one before it in this append) still
 * wakes it, since the sends that took seqs since count on that wake. Best effort, as markUnheld: an unmarked seq is
 * fenced by the fan-out.
 */
async function giveUp(
  deps: Pick<MessagePorts, 'sends' | 'events'>,
  roomId: string,
  given: { seq: number; wakes: boolean },
  woke: boolean,
  expiresAt: number,
): Promise<void> {
  try {
    await deps.sends.markGap(roomId, given.seq, expiresAt);
  } catch (error) {
    logger.warn('a refused send left its seq unmarked', {
      roomId,
      seq: given.seq,
      error: (error as Error).name,
    });
  }
  await wakeUnstored(deps, roomId, { seq: given.seq, wakes: given.wakes || woke });
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
 * Wakes (docs/DECISIONS.md, "The fan-out at AWS's scale"). The fan-out queue takes one wake per room per awake spell,
 * not one message per event: the room's item is marked awake by the first take that finds it asleep (roomEvents.ts),
 * whose send publishes a `RoomWake` after storing its event; the execution it starts reads everything stored since
 * the room's cursor from the log, cycle after cycle, and clears the mark only once it has posted every seq taken (a
 * conditional write on the room's seq: deliver/roomLog.ts). A take while the room is awake is covered by that
 * execution. A send also wakes the room when it cannot know that one covers it: a retry of a clientMsgId (its first
 * attempt may have died between its take and its publish), and a take that finds the room awake for longer than
 * AWAKE_STALE_MS (the take that woke it died before publishing; executions renew the mark every turn).
 */
export const AWAKE_STALE_MS = 10_000;

/** Whether a take wakes the room: it found it asleep, or awake since longer than AWAKE_STALE_MS. */
export const wakes = (awakeSince: number | undefined, at: number) =>
  awakeSince === undefined || at - awakeSince > AWAKE_STALE_MS;

/** A seq taken, and whether its take found the room asleep (`wakes`). */
export interface Taken {
  seq: number;
  wakes: boolean;
  /** The room's slow mode as the take found it (seconds), and whether the author is exempt (owner, moderator). */
  slowModeSeconds?: number;
  exempt?: boolean;
  /** The room's name as the take found it (null: none; absent: not read), for the message's push (publishStored). */
  roomName?: string | null;
}

/** How a publish wakes the room: the take behind it, or a retry (which always wakes). */
export type WakeBy = { taken: Taken } | { retry: true };

/**
 * The wake a stored event's publish carries, if any (above). It carries the event's messageId, the correlation id a
 * message's journey is followed by through the bus, the queue and the fan-out's logs; the same event's wake published
 * twice is the same queue body, which the queue keeps once.
 */
function wakeOf(
  stored: { roomId: string; seq: number; messageId: string },
  by: WakeBy,
): RoomWake | undefined {
  const { roomId, seq, messageId } = stored;
  if ('taken' in by && !by.taken.wakes) return undefined;
  return { type: 'RoomWake', messageId, roomId, seq };
}

/**
 * The takes of one append: a take that woke the room owes the room its wake until an event of the append is
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
 * Wakes the room for a take that found it asleep and whose event was not stored (the append failed after taking it):
 * the sends that took seqs since count on that wake. Best effort: a failure is logged, and the room is woken by the
 * next take after AWAKE_STALE_MS.
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
interface StoredEvent {
  messageId: string;
  roomId: string;
  seq: number;
  /** The frame members get (serialized by `eventPayload`): a chat message or a change. */
  frame: MessageFrame | ChangeFrame;
}

/**
 * The payload an event carries: the frame as JSON, with the keys of every object inside it in one order (the frame's
 * own keys stay in the order its builder gives, `type` first). A stored event may be published by more than one
 * attempt (below), one holding it as built and one as read back from DynamoDB, whose maps promise no key order; the
 * same bytes make the same `payload` for the bus's consumers, whichever attempt published it (only a pushable
 * message's `roomName`, known to the attempt that took the seq, differs).
 */
function eventPayload(frame: object): string {
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
  const { messageId, roomId, seq, frame } = stored;
  const payload = eventPayload(frame);
  // Only a chat message that can be pushed to someone is marked: the push rule matches these alone. Its push names the
  // room by the name its take found (null: none), so the push function reads no room; a retry's publish took no seq
  // and carries none, and the push function reads the room's name itself (functions/push/onMessage.ts).
  const roomName = 'taken' in by ? by.taken.roomName : undefined;
  const pushable =
    frame.type === 'message' && mayPush(frame)
      ? { mayPush: true, ...(roomName !== undefined && { roomName }) }
      : {};
  const wake = wakeOf(stored, by);
  try {
    await deps.events.publish([
      { type: 'MessageSent', messageId, roomId, seq, payload, ...pushable },
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
