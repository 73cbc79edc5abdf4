/**
 * Gaps: a room's seq is taken by an atomic counter before its event is stored (sending.ts), so a seq can be taken and
 * stored late (its sender is between the two writes) or never (its sender lost the race for its clientMsgId and
 * marked the seq as a gap, or died between the writes). The fan-out waits for a missing seq and fences it with a gap
 * marker after 1.5 s (deliver/roomLog.ts), so its sender stores under a new seq; `history` has nothing under a gap.
 */

/** Whether a stored item is a gap marker (no event: history and the fan-out skip it). */
export const isGapMarker = (item: object) => (item as { gap?: unknown }).gap === true;
