import { logger } from '#platform/powertools';

/**
 * The room's log as the fan-out reads it (docs/DECISIONS.md, "The fan-out at AWS's scale"). The fan-out queue carries
 * wakes, not messages: an execution reads every event stored after the room's cursor (`high`, the highest seq it has
 * posted) from the `Messages` table, in seq order, and posts them; the machine saves the new `high` after the posts.
 *
 * A seq can be taken and not yet stored (its sender is between the two writes) or never stored (its sender died, or
 * lost a clientMsgId race and marked a gap). The reader stops at a missing seq and waits for it, reading again every
 * POLL_MS, and passes it once it has itself seen it missing for HOLE_PASS_MS. A sender whose store ends more than
 * STRAGGLER_MS after its seq was taken (messages/appending.ts) wakes the room itself, and its seq, now below `high`, is
 * posted on its own as a late message (the client shows it in its place): so a seq passed is never lost, and a seq
 * still being stored is waited for, not posted out of order.
 *
 * Seqs taken after the last stored one are waited for the same way only when no later wake covers them: the room's
 * head (its counter, and when it was taken) is in a tick no later than the newest wake the execution holds. A later
 * tick has its own waker (appending.ts), whose execution reads on, so a busy room's execution never waits for news.
 */

/** The reader's poll while it waits for a seq being stored. */
export const POLL_MS = 50;
/** How long the reader watches a missing seq before passing it: above the senders' STRAGGLER_MS, with a margin. */
export const HOLE_PASS_MS = 1_500;
/** Events one cycle posts at most. */
export const CYCLE_EVENTS = 200;
/**
 * Escaped bytes of frames one cycle posts at most: each frame travels as a JSON string in the execution's state, once
 * per Map iteration's input, within Step Functions' 256 KiB state; a 4,096-byte text of control characters escapes to
 * ~30 KB there.
 */
export const CYCLE_BYTES = 96 * 1024;
/** The wake tick (messages/appending.ts WAKE_TICK_MS): seqs taken in one tick share its waker's wake. */
export const WAKE_TICK_MS = 100;

/** The room's fan-out cursor as stored; `version` guards its save. */
export interface RoomCursor {
  high: number;
  version: number;
}

/** The room's counter: its newest seq and when it was taken (epoch ms). */
export interface RoomHead {
  seq: number;
  seqAt?: number;
}

/** A stored event of the room's log: its frame as members get it, or none for a gap marker. */
export interface LogEntry {
  seq: number;
  payload?: string;
}

/**
 * The cursor's save as the state machine's SaveCursor (a DynamoDB UpdateItem, no code) takes it: every value a
 * string, as Step Functions passes DynamoDB numbers. `read`: the version read (0: none), `next`: the version saved.
 */
export interface CursorItem {
  key: string;
  high: string;
  read: string;
  next: string;
  ttl: string;
}

export interface LogStore {
  cursor(roomId: string): Promise<RoomCursor | undefined>;
  head(roomId: string): Promise<RoomHead>;
  /** The room's stored events after `afterSeq`, in seq order, at most `limit` (strongly consistent). */
  storedAfter(roomId: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  /** The stored events under these seqs (strongly consistent); a seq with nothing stored is left out. */
  stored(roomId: string, seqs: number[]): Promise<LogEntry[]>;
  /** The item SaveCursor writes for `high`, unless another save since `read.version` was read. */
  itemOf(roomId: string, high: number, read: RoomCursor | undefined, nowSeconds: number): CursorItem;
}

/** What woke the room: the ticks of its wakers, and the seqs its records name (a retry's, a straggler's). */
export interface Wakes {
  /** The newest wake tick among the batch's wakes (floor(seqAt / WAKE_TICK_MS)); -1: none. */
  newestTick: number;
  /** Seqs named by the batch's records. */
  seqs: number[];
}

/** One read of the room: what to post, in order, and the cursor to save after the posts. */
export interface RoomRead {
  /** Seqs at or below the cursor named by a wake: posted on their own, before the rest (late messages). */
  late: LogEntry[];
  /** The stored run after the cursor, in seq order (gap markers kept: they carry no frame). */
  run: LogEntry[];
  /** The cursor SaveCursor writes; null when it did not move. */
  save: CursorItem | null;
  /** More is stored than one cycle takes: the machine reads again once this cycle's posts are done. */
  more: boolean;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const escapedBytes = (payload: string) => Buffer.byteLength(JSON.stringify(payload), 'utf8');

/**
 * Reads the room's news after its cursor: the stored run to post, waiting (up to HOLE_PASS_MS, polling) for seqs being
 * stored that no later wake covers; and the late seqs the wakes name below the cursor. `wakes.seqs` also seeds a room
 * with no cursor yet: its log is read from just below the lowest seq named, never from its first message.
 */
export async function readRoom(
  roomId: string,
  wakes: Wakes,
  store: LogStore,
  clock: Clock = realClock,
): Promise<RoomRead> {
  const read = await store.cursor(roomId);
  const named = [...new Set(wakes.seqs)].sort((a, b) => a - b);
  // A room without a cursor yet starts just below the first seq its wakes name (or at its head): what it stored
  // before was delivered by whatever ran then, never posted again.
  let high = read?.high ?? (named[0] !== undefined ? named[0] - 1 : (await store.head(roomId)).seq);
  const start = high;
  const late = named.filter((seq) => seq <= start);
  const lateEntries = late.length > 0 ? await store.stored(roomId, late) : [];
  const run: LogEntry[] = [];
  let bytes = 0;
  let more = false;
  // When each missing seq was first seen missing by this reader: it passes HOLE_PASS_MS later.
  const missingSince = new Map<number, number>();
  for (;;) {
    const limit = CYCLE_EVENTS - run.length;
    if (limit <= 0) {
      more = true;
      break;
    }
    const [entries, head] = await Promise.all([store.storedAfter(roomId, high, limit), store.head(roomId)]);
    const now = clock.now();
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    const lastStored = entries.length > 0 ? (entries[entries.length - 1] as LogEntry).seq : high;
    let waiting = false;
    for (let seq = high + 1; seq <= Math.max(lastStored, head.seq); seq++) {
      const entry = bySeq.get(seq);
      if (entry) {
        const size = entry.payload === undefined ? 0 : escapedBytes(entry.payload);
        if (bytes + size > CYCLE_BYTES && run.length > 0) {
          more = true;
          break;
        }
        run.push(entry);
        bytes += size;
        high = seq;
        continue;
      }
      // Missing: after the last stored seq it is waited for only when no later wake covers it.
      if (seq > lastStored && tickOf(head.seqAt) > wakes.newestTick) break;
      const since = missingSince.get(seq) ?? now;
      missingSince.set(seq, since);
      if (now - since < HOLE_PASS_MS) {
        waiting = true;
        break;
      }
      logger.info('fan-out passed a seq never stored', { roomId, seq });
      high = seq;
    }
    if (more) break;
    if (!waiting) {
      // The Query was full and all of it taken: more may be stored after it.
      more = entries.length >= limit && high >= lastStored;
      break;
    }
    await clock.sleep(POLL_MS);
  }
  const save =
    high !== (read?.high ?? -1) ? store.itemOf(roomId, high, read, Math.floor(clock.now() / 1000)) : null;
  if (lateEntries.length > 0 || run.length > 1)
    logger.info('fan-out read the room', {
      roomId,
      from: start,
      high,
      events: run.length,
      late: late.length,
      more,
    });
  return { late: lateEntries, run, save, more };
}

/** The wake tick of a time (epoch ms); -Infinity for none. */
export function tickOf(at: number | undefined): number {
  return at === undefined ? Number.NEGATIVE_INFINITY : Math.floor(at / WAKE_TICK_MS);
}
