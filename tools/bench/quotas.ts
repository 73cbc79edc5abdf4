/**
 * The model's quotas (tools/bench/awsModel.ts): counted in simulated time, each refusing past its limit where AWS
 * does, and each reporting what it refused and how near its limit its busiest second came, so that a run names the
 * quota that binds first.
 */
import { TokenBucket } from '../local/gateway/limits';

/** A quota per second: calls counted per whole second of simulated time, refused past the quota. */
export class PerSecond implements Meter {
  readonly accepted = new Map<number, number>();
  readonly attempts = new Map<number, number>();
  /** Refusals by second. */
  readonly refusals = new Map<number, number>();
  constructor(readonly limit: number) {}

  /** Counts a call without enforcing the quota (a figure reported beside the one enforced). */
  count(at: number): number {
    const second = Math.floor(at / 1000);
    this.attempts.set(second, (this.attempts.get(second) ?? 0) + 1);
    return second;
  }

  take(at: number, units = 1): boolean {
    const second = this.count(at);
    const used = this.accepted.get(second) ?? 0;
    if (used + units > this.limit) {
      countIn(this.refusals, second);
      return false;
    }
    this.accepted.set(second, used + units);
    return true;
  }

  /** A refusal decided outside the meter (a share of another quota): counted in `at`'s second. */
  refuse(at: number): void {
    countIn(this.refusals, this.count(at));
  }

  /** Units accepted in `at`'s second so far. */
  usedIn(at: number): number {
    return this.accepted.get(Math.floor(at / 1000)) ?? 0;
  }

  /** Attempts a second over seconds [from, from + seconds), and the busiest second's. */
  rate(seconds: number, from = 0): { mean: number; peak: number } {
    let sum = 0;
    let peak = 0;
    for (const [second, n] of this.attempts) {
      if (second < from || second >= from + seconds) continue;
      sum += n;
      peak = Math.max(peak, n);
    }
    return { mean: sum / Math.max(1, seconds), peak };
  }

  /** Units accepted a second over seconds [from, from + seconds). */
  unitsRate(seconds: number, from = 0): number {
    let sum = 0;
    for (const [second, n] of this.accepted) if (second >= from && second < from + seconds) sum += n;
    return sum / Math.max(1, seconds);
  }

  /** Refusals from second `from` on. */
  refusedSince(from = 0): number {
    return sumSince(this.refusals, from);
  }

  /** The busiest second's accepted units ÷ the limit, from second `from` on. */
  peakUse(from = 0): number {
    let peak = 0;
    for (const [second, n] of this.accepted) if (second >= from) peak = Math.max(peak, n);
    return peak / this.limit;
  }
}

/** A meter of a quota: its refusals and busiest second from second `from` on. */
export interface Meter {
  refusedSince(from?: number): number;
  peakUse(from?: number): number;
}

export function countIn(map: Map<number, number>, second: number, n = 1): void {
  map.set(second, (map.get(second) ?? 0) + n);
}

export function sumSince(map: Map<number, number>, from: number): number {
  let sum = 0;
  for (const [second, n] of map) if (second >= from) sum += n;
  return sum;
}

/**
 * API Gateway's route throttle: a token bucket of `burstLimit` refilled at `rateLimit` a second, one for every client
 * of the route (the local cloud's own bucket, tools/local/gateway/limits.ts), its takes counted per second.
 */
export class Bucket implements Meter {
  private readonly bucket: TokenBucket;
  private readonly perSecond: PerSecond;

  constructor(readonly settings: { rateLimit: number; burstLimit: number }) {
    this.bucket = new TokenBucket(settings, 0);
    this.perSecond = new PerSecond(settings.rateLimit);
  }

  /** `at` never goes back: the model calls it from its clock's events. */
  take(at: number): boolean {
    const second = Math.floor(at / 1000);
    if (!this.bucket.take(at)) {
      countIn(this.perSecond.refusals, second);
      return false;
    }
    countIn(this.perSecond.accepted, second);
    return true;
  }

  refusedSince(from = 0): number {
    return this.perSecond.refusedSince(from);
  }

  peakUse(from = 0): number {
    return this.perSecond.peakUse(from);
  }
}

/**
 * A quota on things at once (executions in flight): `enter` refuses past the limit, `leave` frees one; its meter
 * reports refusals and the most at once, by second.
 */
export class Gauge implements Meter {
  private now = 0;
  private readonly refusals = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  constructor(readonly limit: number) {}

  enter(at: number): boolean {
    const second = Math.floor(at / 1000);
    if (this.now >= this.limit) {
      countIn(this.refusals, second);
      return false;
    }
    this.now++;
    this.peaks.set(second, Math.max(this.peaks.get(second) ?? 0, this.now));
    return true;
  }

  leave(): void {
    this.now--;
  }

  refusedSince(from = 0): number {
    return sumSince(this.refusals, from);
  }

  peakUse(from = 0): number {
    let peak = 0;
    for (const [second, n] of this.peaks) if (second >= from) peak = Math.max(peak, n);
    return peak / this.limit;
  }
}

/** One quota's part in a run. */
export interface QuotaUse {
  /** The quota, as AWS's quota page or the template names it. */
  name: string;
  /** Its limit a second (a bucket's steady rate). */
  limit: number;
  /** Calls it refused (each retry counted). */
  refused: number;
  /** Its busiest second's accepted calls ÷ its limit; for a quota per key or group, its busiest key's. */
  peakUse: number;
}

/**
 * A quota's use from its meter, or, for a quota per key or group, from the busiest of its meters; from second `from`
 * on (a run's warm-up left out).
 */
export function quotaUse(name: string, limit: number, meters: Iterable<Meter>, from = 0): QuotaUse {
  let refused = 0;
  let peakUse = 0;
  for (const m of meters) {
    refused += m.refusedSince(from);
    peakUse = Math.max(peakUse, m.peakUse(from));
  }
  return { name, limit, refused, peakUse: Math.round(peakUse * 100) / 100 };
}

/**
 * The quota that binds first: the one that refused the most; when none refused, the one whose busiest second came
 * nearest its limit.
 */
export function bindingQuota(uses: readonly QuotaUse[]): QuotaUse | undefined {
  return [...uses].sort((a, b) => b.refused - a.refused || b.peakUse - a.peakUse)[0];
}

/** `name: N refused`, or `name at P%` of its limit in its busiest second. */
export function describeBinding(use: QuotaUse | undefined): string {
  if (!use) return '–';
  return use.refused > 0
    ? `${use.name}: ${use.refused} refused`
    : `${use.name} at ${Math.round(use.peakUse * 100)}%`;
}
