import { logger } from '#platform/powertools';

/**
 * Read-ahead: a busy room's execution also posts the messages already stored after its batch, so a member gets one
 * frame for many more messages than the fan-out queue's batch of ten (docs/DECISIONS.md, "Read-ahead").
 *
 * The room's fan-out cursor (one small item per room, written once per execution after the room's posts) holds:
 * - `high`: the highest seq this room's fan-out has posted. A read-ahead starts above it, so it never posts a
 *   message an earlier execution posted (a batch's seqs are not in order across batches: two senders may publish
 *   out of the order they took their seqs in);
 * - `skip`: the seqs posted ahead of their own events (seq -> epoch seconds). When such an event arrives in a later
 *   batch it is dropped, and its entry with it. An entry whose event never comes (a sender that stored its message
 *   and died past its publish deadline) is forgotten after SKIP_SECONDS.
 * Only seqs posted are ever skipped, and the cursor is saved only after the posts (the state machine's SaveCursor,
 * conditional on the version read), so a failure posts a message twice (the client keeps one per seq) and never loses
 * one.
 */

/** Messages a read-ahead takes at most: a member's frame then carries up to the batch's ten and these. */
export const READ_AHEAD_MESSAGES = 40;
/** A read-ahead's payload bytes at most per room, so ten rooms stay far within Step Functions' 256 KiB state. */
export const READ_AHEAD_BYTES = 16_384;
/** How long a skip entry waits for its event: far past any sender's publish deadline. */
export const SKIP_SECONDS = 300;
/**
 * Seqs posted ahead and not yet seen, at most: read-ahead pauses at this many. In an overload the queue's backlog
 * would otherwise all be listed, and the cursor travels in the execution's state (256 KiB) and is written whole per
 * execution (1 WCU per KB): 500 entries stay near 10 KB.
 */
export const MAX_SKIP = 500;

/** The room's cursor as stored; `version` guards its save against a second execution of the same batch. */
export interface RoomCursor {
  high: number;
  skip: Record<string, number>;
  version: number;
}

/** The cursor an execution saves after its posts (`version`: the one it read, 0 for none). */
export interface CursorSave extends RoomCursor {
  roomId: string;
}

/**
 * The cursor's save as the state machine's SaveCursor (a DynamoDB UpdateItem, no code) takes it: every value a
 * string, as Step Functions passes DynamoDB numbers. `read`: the version read (0: none), `next`: the version saved.
 */
export interface CursorItem {
  key: string;
  high: string;
  skip: string;
  read: string;
  next: string;
  ttl: string;
}

/** A stored event after a seq: its frame as members get it, or none for a gap marker (a seq never stored). */
export interface StoredEvent {
  seq: number;
  payload?: string;
}

export interface CursorStore {
  cursor(roomId: string): Promise<RoomCursor | undefined>;
  /** The room's stored events after `afterSeq`, in seq order, at most `limit` (strongly consistent). */
  storedAfter(roomId: string, afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** `next` as the item SaveCursor writes, unless another save since `next.version` was read. */
  itemOf(next: CursorSave, nowSeconds: number): CursorItem;
}

/** A room's event as Prepare keeps it (prepare.ts). */
export interface AheadEvent {
  roomId: string | null;
  messageId: string;
  seq?: number;
  payload: string;
}

/**
 * The room's events after its cursor: those posted ahead dropped, and, for a busy room (two or more messages in the
 * batch: its queue has more behind), the stored ones after the highest seq posted appended. With the cursor to save
 * after the posts (`cursor`) and the item SaveCursor writes for it (`save`, the store's `itemOf`: every call into the
 * store is made here, so Prepare enters the store once), both null when it would not change.
 */
export async function readAhead(
  roomId: string,
  events: AheadEvent[],
  store: CursorStore,
  nowSeconds: number,
): Promise<{ events: AheadEvent[]; cursor: CursorSave | null; save: CursorItem | null }> {
  const seqs = events.filter((e) => e.seq !== undefined);
  if (seqs.length === 0) return { events, cursor: null, save: null };
  const read = await store.cursor(roomId);
  const skip = new Map(
    Object.entries(read?.skip ?? {}).filter(([, at]) => Number(at) > nowSeconds - SKIP_SECONDS),
  );
  const forgotten = Object.keys(read?.skip ?? {}).length - skip.size;
  const kept = events.filter((e) => e.seq === undefined || !skip.delete(String(e.seq)));
  const dropped = events.length - kept.length;
  let high = Math.max(read?.high ?? 0, ...kept.map((e) => e.seq ?? 0));
  const ahead: AheadEvent[] = [];
  const room = MAX_SKIP - skip.size;
  if (seqs.length >= 2 && room > 0) {
    let bytes = 0;
    for (const stored of await storedAfterOrNone(store, roomId, high, Math.min(READ_AHEAD_MESSAGES, room))) {
      if (stored.payload !== undefined) {
        bytes += stored.payload.length;
        if (bytes > READ_AHEAD_BYTES) break;
        ahead.push({
          roomId,
          messageId: `ahead:${roomId}:${stored.seq}`,
          seq: stored.seq,
          payload: stored.payload,
        });
        skip.set(String(stored.seq), nowSeconds);
      }
      // A gap marker's seq has no event to come: the cursor passes it, nothing to skip.
      high = Math.max(high, stored.seq);
    }
  }
  if (dropped > 0 || ahead.length > 0)
    logger.info('fan-out read-ahead', { roomId, postedBefore: dropped, readAhead: ahead.length, high });
  const changed = high !== (read?.high ?? 0) || dropped > 0 || ahead.length > 0 || forgotten > 0;
  const cursor = changed
    ? { roomId, version: read?.version ?? 0, high, skip: Object.fromEntries(skip) }
    : null;
  return { events: [...kept, ...ahead], cursor, save: cursor && store.itemOf(cursor, nowSeconds) };
}

/**
 * The room's stored events after `afterSeq`, or none when they cannot be read (after the store's retries): the
 * execution then reads nothing ahead, but still drops what the cursor says was posted ahead and saves it, so a failed
 * read-ahead costs a larger frame later, never a seq posted twice.
 */
async function storedAfterOrNone(
  store: CursorStore,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<StoredEvent[]> {
  try {
    return await store.storedAfter(roomId, afterSeq, limit);
  } catch (error) {
    logger.warn('fan-out read-ahead skipped: the stored events could not be read', { roomId, error });
    return [];
  }
}
