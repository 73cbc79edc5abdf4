import { logger } from '#platform/powertools';

/**
 * The room's log as the fan-out reads it (docs/DECISIONS.md, "The fan-out at AWS's scale"). The fan-out queue carries
 * wakes, not messages: an execution reads every event stored after the room's cursor (`high`, the highest seq it has
 * posted) from the `Messages` table, in seq order, and posts them; the machine saves the new `high` after the posts.
 *
 * A seq can be taken and not yet stored (its sender is between the two writes) or never stored (its sender died). The
 * reader never posts past a missing seq: it posts what came before it and reads again after the posts, or, with
 * nothing to post, polls every POLL_MS. A seq missing for HOLE_PASS_MS is **fenced**: a gap marker is put under it if
 * it is still free, so its sender's put fails and the sender stores its message under a new seq instead
 * (messages/sending.ts); a seq is thus posted once, in order, or never holds a message.
 *
 * Once it has posted every seq the room has taken, the reader puts the room to sleep: it clears the room's `awake`
 * mark, on condition that the room's seq is still the one it posted up to. A take after that finds the room asleep
 * and wakes it (messages/appending.ts); a take before it makes the condition fail, and the reader reads on. A room
 * still busy after ROOM_TURN_MS is handed on: the mark is renewed and a wake queued, so the room's next execution goes
 * on where this one stops, and the other rooms of this execution's batch are held no longer than a turn.
 */

/** The reader's poll while it waits for a seq being stored. */
export const POLL_MS = 50;
/** How long the reader watches a missing seq before fencing it: far above a send's gap between its seq and its put. */
export const HOLE_PASS_MS = 1_500;
/** Events one cycle posts at most. */
export const CYCLE_EVENTS = 200;
/**
 * Escaped bytes of frames one cycle posts at most: each frame travels as a JSON string in the execution's state, once
 * per Map iteration's input, within Step Functions' 256 KiB state; a 4,096-byte text of control characters escapes to
 * ~30 KB there.
 */
export const CYCLE_BYTES = 96 * 1024;
/**
 * The bytes a read may take, from the room's head (its removed names make its Query filter, which travels beside the
 * frames): CYCLE_BYTES for a room read alone, a share of Step Functions' state for a room of a batch (prepare.ts).
 */
export type ByteBudget = (head: RoomHead) => number;
/** How long one execution reads a busy room before handing it on to the room's next execution. */
export const ROOM_TURN_MS = 2_000;

/**
 * How many seqs given up before a cycle's read (between the cursor's `posted` and `high`) its first frame tells at most:
 * a frame's gaps stay a few KB (docs/DECISIONS.md, "Gaps are told where members read"); a member is told of the rest
 * by `history`. Exported for tests: gapFrames.test.ts leaves more than this many gaps.
 */
export const CARRIED_GAPS = 200;

/**
 * The room's fan-out cursor as stored; `version` guards its save. `posted`: the last event posted (absent, a cursor
 * saved before it was kept: `high`); every seq after it up to `high` is a gap, told with the room's next event.
 */
export interface RoomCursor {
  high: number;
  version: number;
  posted?: number;
}

/**
 * The room's counter, key level and removed names, one read of its item: its newest seq, how many of its keys in the
 * room index hold its members (core/aws/roomMembers.ts roomKeyLevel; absent: every key a room can have), and the
 * names its owner removed (`removedNames`).
 */
export interface RoomHead {
  seq: number;
  keyLevel?: number;
  removed: string[];
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
  /** The last event posted (RoomCursor). */
  posted: string;
  read: string;
  next: string;
  ttl: string;
}

export interface LogStore {
  cursor(roomId: string): Promise<RoomCursor | undefined>;
  head(roomId: string): Promise<RoomHead>;
  /** The room's stored events after `afterSeq`, in seq order, at most `limit` (strongly consistent). */
  storedAfter(roomId: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  /**
   * Puts a gap marker under a seq still free; when something is stored there after all, it is returned instead (a
   * sender stored it at the last moment), and undefined once the marker is in.
   */
  fence(roomId: string, seq: number): Promise<LogEntry | undefined>;
  /** Clears the room's awake mark if its seq is still `seq`: false when a seq was taken since. */
  sleep(roomId: string, seq: number): Promise<boolean>;
  /** Renews the room's awake mark and queues a wake for the room's next execution. */
  handOff(roomId: string, high: number): Promise<void>;
  /**
   * The item SaveCursor writes for `high`, unless another save since `read.version` was read; readRoom adds `posted`.
   */
  itemOf(
    roomId: string,
    high: number,
    read: RoomCursor | undefined,
    nowSeconds: number,
  ): Omit<CursorItem, 'posted'>;
}

/** One read of the room: what to post, in order, and the cursor to save after the posts. */
interface RoomRead {
  /**
   * The stored run after the cursor, in seq order (gap markers kept: they carry no frame), after the gaps the cursor
   * carries (between its `posted` and `high`): the frames tell members of the gaps below each event (prepare.ts).
   */
  run: LogEntry[];
  /** The cursor SaveCursor writes; null when it did not move. */
  save: CursorItem | null;
  /** More is stored than one cycle takes: the machine reads again once this cycle's posts are done. */
  more: boolean;
  /**
   * The room's key level from a read of its head that saw every seq of the run taken (absent: every key). A join
   * raises the level before it writes its subscription and reads the room's seq after (rooms/joining.ts), so a
   * member owed a message of the run is under a key below this level.
   */
  keyLevel?: number;
  /**
   * The names the owner removed, as the room's last read said: that read came after every seq of the run was taken,
   * so a removal answered before any of them is here, and its connections are left out of the posts (prepare.ts).
   */
  removed: string[];
}

/** Exported for tests: the port roomLog.test.ts builds its stepped clock with. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const escapedBytes = (payload: string) => Buffer.byteLength(JSON.stringify(payload), 'utf8');
/** A gap's bytes in its frame's `gaps` (its digits and a comma; nothing in them is escaped). */
const gapBytes = (seq: number) => String(seq).length + 1;

/**
 * Reads the room's news after its cursor: the stored run to post now (waiting for a seq being stored only while there
 * is nothing to post, and fencing one missing for HOLE_PASS_MS), and whether the machine should read again after the
 * posts (`more`). Puts the room to sleep once it has posted every seq taken, or hands it on past `turnEndsAt`.
 * `named`: seqs the wakes name, which seed a room with no cursor yet: its log is read from just below the lowest, never
 * from its first message.
 */
export async function readRoom(
  roomId: string,
  named: number[],
  store: LogStore,
  turnEndsAt: number,
  clock: Clock = realClock,
  budget: ByteBudget = () => CYCLE_BYTES,
): Promise<RoomRead> {
  const read = await store.cursor(roomId);
  const lowest = named.length > 0 ? Math.min(...named) : undefined;
  const start = read?.high ?? (lowest !== undefined ? lowest - 1 : (await store.head(roomId)).seq);
  const carried = carriedGaps(read, start);
  const g: Gathered = { run: [], bytes: runBytes(carried), high: start, more: false };
  // When each missing seq was first seen missing by this reader: it is fenced HOLE_PASS_MS later.
  const missingSince = new Map<number, number>();
  // The newest head read: its seq, key level (the level only grows) and removed names.
  let seen: RoomHead = { seq: -1, removed: [] };
  for (;;) {
    const limit = CYCLE_EVENTS - g.run.length;
    if (limit <= 0) {
      g.more = true;
      break;
    }
    const [entries, head] = await Promise.all([store.storedAfter(roomId, g.high, limit), store.head(roomId)]);
    seen = head;
    const now = clock.now();
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    const lastStored = entries.length > 0 ? (entries[entries.length - 1] as LogEntry).seq : g.high;
    // A full page may have more after it: the walk stops at its end. It never passes the head read beside it: a seq
    // taken after that read (the two run at once) waits for the next read, whose removed names are as new as it.
    const full = entries.length >= limit;
    const upTo = full ? Math.min(lastStored, head.seq) : head.seq;
    const maxBytes = Math.min(CYCLE_BYTES, budget(head));
    const pending = await gather(roomId, store, g, { bySeq, upTo, now, missingSince, maxBytes });
    if (g.more || (full && g.high >= lastStored)) {
      g.more = true;
      break;
    }
    if (!pending && g.high >= head.seq) {
      // Every seq taken is in this read: the room sleeps, unless one was taken meanwhile (then read on at once).
      if (await store.sleep(roomId, g.high)) break;
      continue;
    }
    // A seq is being stored: post what came before it now, and read again after the posts. Gaps alone are not posted
    // (prepare.ts): the read waits on, so it fences the seq in time.
    if (g.run.some((e) => e.payload !== undefined)) {
      g.more = true;
      break;
    }
    if (now >= turnEndsAt) {
      await store.handOff(roomId, g.high);
      break;
    }
    await clock.sleep(POLL_MS);
  }
  const { high } = g;
  const run = [...carried, ...g.run];
  let { more } = g;
  if (more && clock.now() >= turnEndsAt) {
    // The turn is over with more to read: the room's next execution reads on.
    await store.handOff(roomId, high);
    more = false;
  }
  const save = saveOf(store, roomId, read, g, start, clock.now());
  if (run.length > 1)
    logger.info('fan-out read the room', { roomId, from: start, high, events: run.length, more });
  // A seq stored and read in the same moment as the head may have been taken after the head was read: its level and
  // removed names are read again, so a member who joined (and raised the level) before that seq was taken is Queried.
  if ((g.run.at(-1)?.seq ?? -1) > seen.seq) seen = await store.head(roomId);
  return {
    run,
    save,
    more,
    removed: seen.removed,
    ...(seen.keyLevel !== undefined && { keyLevel: seen.keyLevel }),
  };
}

/**
 * The gaps between the cursor's last event posted and `start` (its `high`), the highest CARRIED_GAPS of them: the
 * cursor passed them as gaps, so they are told with the room's next event; a cursor without `posted` carries none.
 */
function carriedGaps(read: RoomCursor | undefined, start: number): LogEntry[] {
  const carried: LogEntry[] = [];
  const posted = read?.posted ?? start;
  for (let seq = Math.max(posted, start - CARRIED_GAPS) + 1; seq <= start; seq++) carried.push({ seq });
  return carried;
}

/** The escaped bytes of gaps in their frames (gapBytes). */
const runBytes = (gaps: LogEntry[]) => gaps.reduce((n, e) => n + gapBytes(e.seq), 0);

/**
 * The cursor SaveCursor writes after the posts, null when the read did not move it: `high`, and the last event posted,
 * the run's last or else the cursor's (a run of gaps alone is told with the room's next event).
 */
function saveOf(
  store: LogStore,
  roomId: string,
  read: RoomCursor | undefined,
  g: Gathered,
  start: number,
  nowMs: number,
): CursorItem | null {
  if (g.high === (read?.high ?? -1)) return null;
  const posted = g.run.findLast((e) => e.payload !== undefined)?.seq ?? read?.posted ?? start;
  return { ...store.itemOf(roomId, g.high, read, Math.floor(nowMs / 1000)), posted: String(posted) };
}

/** What a read gathered so far: the run to post, its escaped bytes, the highest seq in it, and whether to read on. */
interface Gathered {
  run: LogEntry[];
  bytes: number;
  high: number;
  more: boolean;
}

/**
 * Walks one page of the log, the seqs after `g.high` up to `upTo` in order, adding each to the run. Every missing seq
 * of the read is watched from when it was first seen, side by side, and fenced HOLE_PASS_MS later: k seqs never
 * stored are fenced together, not one HOLE_PASS_MS after another. Nothing is posted past a seq still being stored; a
 * run at its byte budget (`maxBytes`, at most CYCLE_BYTES) stops the walk (`more`). Answers whether a seq is still being stored.
 */
async function gather(
  roomId: string,
  store: LogStore,
  g: Gathered,
  page: {
    bySeq: Map<number, LogEntry>;
    upTo: number;
    now: number;
    missingSince: Map<number, number>;
    maxBytes: number;
  },
): Promise<boolean> {
  const { bySeq, upTo, now, missingSince, maxBytes } = page;
  let pending = false;
  for (let seq = g.high + 1; seq <= upTo; seq++) {
    let entry = bySeq.get(seq);
    if (!entry) {
      const since = missingSince.get(seq) ?? now;
      missingSince.set(seq, since);
      if (now - since < HOLE_PASS_MS) {
        pending = true;
        continue;
      }
      entry = (await store.fence(roomId, seq)) ?? { seq };
      if (entry.payload === undefined) logger.info('fan-out fenced a seq never stored', { roomId, seq });
      missingSince.delete(seq);
    }
    // Nothing is posted past a seq still being stored.
    if (pending) continue;
    const size = entry.payload === undefined ? gapBytes(seq) : escapedBytes(entry.payload);
    // A message too long for the budget goes alone in a full cycle; a smaller budget (a room of a batch) leaves it to
    // the room's next read, which the machine makes alone (ReadRoom).
    if (g.bytes + size > maxBytes && (g.run.length > 0 || maxBytes < CYCLE_BYTES)) {
      g.more = true;
      break;
    }
    g.run.push(entry);
    g.bytes += size;
    g.high = seq;
  }
  return pending;
}
