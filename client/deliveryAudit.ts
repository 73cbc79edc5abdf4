/**
 * The one delivery audit of tests, bench and load: what one member received, against what it was owed. A message
 * is lost when it neither arrived live nor was fetched through `history`; a duplicate is every extra copy of a seq;
 * an out-of-order arrival is a seq below one that arrived before it (which the client's Sequencer reorders).
 */
export interface MemberDelivery {
  /** Seqs the member was owed (stored while it was in the room). */
  lost: number[];
  /** Seqs that arrived more than once (each listed once). */
  duplicated: number[];
  /** Extra copies in all: a seq that arrived three times counts 2. */
  extraCopies: number;
  /** Owed seqs that did not arrive live but were fetched through history. */
  filledByHistory: number[];
  /** Arrivals with a seq lower than an earlier arrival's. */
  arrivedOutOfOrder: number;
}

export function auditDelivery(
  owed: Iterable<number>,
  arrived: readonly number[],
  fetched: ReadonlySet<number> = new Set(),
): MemberDelivery {
  const count = new Map<number, number>();
  let highest = Number.NEGATIVE_INFINITY;
  let arrivedOutOfOrder = 0;
  for (const seq of arrived) {
    count.set(seq, (count.get(seq) ?? 0) + 1);
    if (seq < highest) arrivedOutOfOrder++;
    highest = Math.max(highest, seq);
  }
  const lost: number[] = [];
  const filledByHistory: number[] = [];
  for (const seq of owed) {
    if (count.has(seq)) continue;
    if (fetched.has(seq)) filledByHistory.push(seq);
    else lost.push(seq);
  }
  const duplicated = [...count].filter(([, n]) => n > 1).map(([seq]) => seq);
  const extraCopies = duplicated.reduce((sum, seq) => sum + (count.get(seq) ?? 1) - 1, 0);
  return { lost, duplicated, extraCopies, filledByHistory, arrivedOutOfOrder };
}
