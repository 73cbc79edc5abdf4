/**
 * The leave grace and its stretch in a reconnect storm (docs/DECISIONS.md, "The reconnect storm: the grace stretches
 * while the stack is in one"). Pure: no I/O, no clock of its own, so the departure's settle step (departure.ts), the
 * departure machine's loop (statemachines/departure.asl.json) and the benchmark's model (tools/bench/presence.ts)
 * follow one rule from one source.
 */

/**
 * The pause before the rooms are told: the client's first three reconnects wait at most 0.5 + 1 + 2 s (full jitter,
 * client/backoff.ts DEFAULT_BACKOFF), and its handshake and `subscribe` fit in what is left. A person who really left
 * shows as gone in every room this long after `$disconnect` (longer in a storm: stormWaitSeconds), plus the fan-out's
 * delivery time.
 */
export const LEAVE_GRACE_SECONDS = 5;

/** API Gateway's new WebSocket connections per second per account and region (AWS-QUOTAS.md): a storm's drain rate. */
export const RECONNECTS_PER_SECOND = 500;

/**
 * Exported for tests: stormGrace.test.ts writes counters across the window's edge.
 * The seconds of `$disconnect` counters a settle reads (one BatchGetItem of this many one-second keys).
 */
export const STORM_WINDOW_SECONDS = 10;

/**
 * Exported for tests: the storm tests drive the rule on each side of the threshold.
 * Closes within the window past which the stack is in a storm: as many as API Gateway reconnects within one grace
 * (500/s × 5 s = 2,500). Up to it, everyone closed in the window can be back within a grace at the connect rate, so
 * the grace alone decides; past it, returns queue behind the rate beyond the grace. A stack of 20,000 connections
 * whose sessions last 30 min closes ~11/s, 110 in a window: the threshold is over 20 times its normal churn.
 */
export const STORM_DISCONNECTS = RECONNECTS_PER_SECOND * LEAVE_GRACE_SECONDS;

/**
 * Exported for tests: stormGrace.test.ts holds a storm past the cap to it.
 * The longest stretch: a backlog of 60,000 closes drains in 120 s. With the grace, the settle's tries (≤ 15 s each
 * pass) and Deliver's runs it stays inside the departure machine's 200 s TimeoutSeconds and DEPARTURE_OPEN_MS, so a
 * departure is always settled by its own step while its record is still open.
 */
export const STORM_WAIT_CAP_SECONDS = 120;

/**
 * The epoch seconds whose counters a settle at `nowMs` reads: the STORM_WINDOW_SECONDS seconds ending with the
 * current one.
 */
export function stormWindow(nowMs: number): number[] {
  const now = Math.floor(nowMs / 1000);
  return Array.from({ length: STORM_WINDOW_SECONDS }, (_, i) => now - i);
}

/**
 * The extra wait a departure's settle takes, from the window's per-second close counts: none up to
 * STORM_DISCONNECTS; past it, the time API Gateway takes to reconnect them all (closes ÷ 500/s, rounded up),
 * at most STORM_WAIT_CAP_SECONDS. Counted from the settle, which already sits a grace past its close: that grace is
 * the last returner's margin for its backoff and handshake, as it is for a lone reconnect.
 */
export function stormWaitSeconds(counts: readonly number[]): number {
  const closes = counts.reduce((sum, n) => sum + (Number.isFinite(n) && n > 0 ? n : 0), 0);
  if (closes <= STORM_DISCONNECTS) return 0;
  return Math.min(STORM_WAIT_CAP_SECONDS, Math.ceil(closes / RECONNECTS_PER_SECOND));
}

/**
 * The seconds a departure's settle at `nowMs` still waits, from the counters of the window ending at `dueMs` (its close
 * plus the grace): the storm's drain counted from `dueMs`, less the time since. A machine that started late (its start
 * throttled and retried) waits only what is left, and none once the stretch has passed, so every departure of a storm
 * settles no earlier than one started on time, and no later than it need.
 */
export function stormWaitLeft(counts: readonly number[], dueMs: number, nowMs: number): number {
  const wait = stormWaitSeconds(counts);
  if (wait === 0) return 0;
  return Math.max(0, Math.ceil((dueMs + wait * 1000 - nowMs) / 1000));
}

/** The `$disconnect` counters: one item per epoch second (`disconnects#<second>`, Limits table). */
export interface DisconnectCounts {
  /** Adds one close to the second's counter. */
  add(epochSecond: number): Promise<void>;
  /** The counts of those seconds, 0 for a second without an item, in their order. */
  read(epochSeconds: readonly number[]): Promise<number[]>;
}
