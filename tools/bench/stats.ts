import { auditDelivery } from '@roomcast/client';

/**
 * Small, pure statistics for the fan-out benchmark: percentiles, summaries and rates. No I/O, no clocks, so the
 * arithmetic is unit-tested (tests/bench/stats.test.ts) apart from the timed runs.
 */

/**
 * The p-th percentile (0..100) of the samples by the nearest-rank method: the smallest sample such that at least
 * p% of the samples are at or below it. Nearest rank never invents a value between two samples, which matters with
 * the few samples (K messages) a benchmark run has: p99 of 20 samples is simply the maximum.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  if (p === 0) return sorted[0] as number;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) {
    return { count: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const s of samples) {
    if (s < min) min = s;
    if (s > max) max = s;
    sum += s;
  }
  return {
    count: samples.length,
    min,
    mean: sum / samples.length,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    max,
  };
}

/** Events per second for `count` events in `elapsedMs`; NaN when no time elapsed (a rate cannot be measured). */
export function ratePerSec(count: number, elapsedMs: number): number {
  if (!(elapsedMs > 0)) return Number.NaN;
  return (count * 1000) / elapsedMs;
}

/**
 * Deliveries per second of a series of fan-outs: every delivery counted, divided by the time the fan-outs took
 * (send to last receipt, summed). It is the rate a single fan-out achieves end to end, fixed hops included.
 */
export function deliveriesPerSec(roomSize: number, fanoutMs: readonly number[]): number {
  const total = fanoutMs.reduce((a, b) => a + b, 0);
  return ratePerSec(roomSize * fanoutMs.length, total);
}

/** How many times faster `fast` is than `slow` (ratio of their typical durations); NaN when undefined. */
export function speedup(slowMs: number, fastMs: number): number {
  if (!(fastMs > 0) || !Number.isFinite(slowMs)) return Number.NaN;
  return slowMs / fastMs;
}

/** Rounds for display and JSON: 1 decimal under 100, integers above; NaN stays NaN (printed as "–"). */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 10) / 10;
}

/** Checks that each member got every seq exactly once; returns the counts of missing and duplicated deliveries. */
export function lossAndDuplicates(
  expectedSeqs: readonly number[],
  receivedSeqsPerMember: readonly (readonly number[])[],
): { missing: number; duplicated: number } {
  // The delivery audit shared with the tests and the load scenarios (client/deliveryAudit.ts).
  const audits = receivedSeqsPerMember.map((received) => auditDelivery(expectedSeqs, received));
  return {
    missing: audits.reduce((n, a) => n + a.lost.length, 0),
    duplicated: audits.reduce((n, a) => n + a.extraCopies, 0),
  };
}
