/**
 * Gaps: a room's seq is taken by an atomic counter before its event is stored (sending.ts), so a seq can be taken and
 * stored late (its sender is between the two writes) or never (its sender lost the race for its clientMsgId and
 * marked the seq as a gap, or died between the writes). Readers that deliver in seq order (the fan-out's cycles)
 * wait for a missing seq until it is known never to come, then pass it; `history` simply has nothing under it.
 */

/**
 * How long after a later seq was taken a missing seq is given up: its sender took it before that later seq, within
 * one invocation of at most 10 s (the template's Timeout), and stores within that invocation or never. Twice that,
 * and margin for clocks.
 */
export const GAP_AFTER_MS = 30_000;

/** A stored item of a room as the gap rule sees it: an event (with its send time) or a gap marker. */
export interface StoredSeq {
  seq: number;
  sentAt?: string;
  /** A gap marker: the seq was taken and will never hold an event. */
  gap?: boolean;
}

/**
 * The highest seq after `cursor` (up to `upto`) below which every seq is stored or known to be a gap, so a reader
 * delivering in order can pass them all now. A seq missing from `items` (the stored items of the range, ascending) is
 * a gap when a stored item after it was sent more than GAP_AFTER_MS before `now`, or when the room's newest seq was
 * taken that long ago (`seqAt`, epoch ms); otherwise it is still being stored and the reader waits for it.
 */
export function deliverableUpto(
  cursor: number,
  upto: number,
  items: readonly StoredSeq[],
  seqAt: number | undefined,
  now: number,
): number {
  const bySeq = new Map(items.map((item) => [item.seq, item]));
  const roomQuiet = seqAt !== undefined && seqAt <= now - GAP_AFTER_MS;
  // The oldest send time among items after each seq, scanned from the top: a later item sent long ago proves a gap.
  let oldestAfter = Number.POSITIVE_INFINITY;
  const oldestLaterThan = new Map<number, number>();
  for (let seq = upto; seq > cursor; seq--) {
    oldestLaterThan.set(seq, oldestAfter);
    const sentAt = bySeq.get(seq)?.sentAt;
    if (sentAt !== undefined) oldestAfter = Math.min(oldestAfter, Date.parse(sentAt));
  }
  let last = cursor;
  for (let seq = cursor + 1; seq <= upto; seq++) {
    const given = bySeq.has(seq) || roomQuiet || (oldestLaterThan.get(seq) ?? Infinity) <= now - GAP_AFTER_MS;
    if (!given) break;
    last = seq;
  }
  return last;
}

/** Whether a stored item is a gap marker (no event: history and the fan-out skip it). */
export const isGapMarker = (item: object) => (item as { gap?: unknown }).gap === true;
