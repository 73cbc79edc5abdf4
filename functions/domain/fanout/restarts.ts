/**
 * Successor executions that a failure starts for a room's newest event: an abandoned cycle's (dynamoLease.ts) and the
 * sweep's for an expired lease (leaseSweep.ts). A throttle or an outage can outlast one successor (its claim fails
 * past its ~19 s of retries and the room goes back to the sweep), so each newest event gets up to MAX_RESTARTS of
 * them, about five minutes of the minute's sweep; a failure that never ends then stops starting executions, and
 * the room's next event delivers what is left. The room item counts them in `restarts`: the write that frees the
 * lease adds one (so the count costs no extra round trip), and every room event's seq write removes it
 * (platform/aws/roomEvents.ts), so a new event gets its own: an update expression cannot branch on whether the
 * newest event changed since the last restart, so the reset goes with the write that changes it.
 */
export const MAX_RESTARTS = 5;

/** The SET clause that counts one more restart, with its values. */
export const COUNT_RESTART = 'restarts = if_not_exists(restarts, :noRestarts) + :oneRestart';
export const COUNT_RESTART_VALUES = { ':noRestarts': 0, ':oneRestart': 1 };

/**
 * What freeing a lease owes the room: a successor for `pendingSeq`; none, the bound met with `gaveUpSeq` left
 * undelivered (`firstGiveUp` the first time for that event, which the operator is told of); or none at all,
 * nothing being left.
 */
export interface Restart {
  pendingSeq?: number;
  gaveUpSeq?: number;
  firstGiveUp?: true;
}

/**
 * From the room's item as it was before the write that freed its lease (ALL_OLD): a successor is owed when messages
 * are left after the cycle's start and the newest event has had fewer than MAX_RESTARTS.
 */
export function restartOwed(before: { seq?: number; leaseFrom?: number; restarts?: number }): Restart {
  const seq = before.seq ?? 0;
  if (seq <= (before.leaseFrom ?? seq)) return {};
  const restarts = before.restarts ?? 0;
  if (restarts < MAX_RESTARTS) return { pendingSeq: seq };
  // Every write that frees the lease counts one, so only the first give-up for the newest event finds exactly
  // MAX_RESTARTS; a later one (another execution of that event failing again) gives up on nothing new.
  return restarts === MAX_RESTARTS ? { gaveUpSeq: seq, firstGiveUp: true } : { gaveUpSeq: seq };
}
