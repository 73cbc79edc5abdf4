/**
 * Lambda in the model (tools/bench/awsModel.ts): each function's execution environments, a cold start where none is
 * free, and the quotas that refuse an invocation (Lambda developer guide, "Lambda quotas" and "Understanding Lambda
 * function scaling": docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, …/lambda-concurrency.html):
 * - 1,000 concurrent executions per account and Region (soft), shared by every function without a reservation;
 *   a function with reserved concurrency runs at most that many, out of the account's pool;
 * - each function adds at most 1,000 environments every 10 seconds.
 * A cold start's init runs before the handler; its length comes from the function's bundle (initLatencyFor).
 *
 * Approximation: the model computes some invocations ahead of the clock (a chunk's posts), so concurrency at a
 * moment is counted from the invocations known when one is asked for; an invocation whose end is not known yet
 * counts as running.
 */
import type { Latency } from '../local/awsProfile';
import { countIn, type Meter, sumSince } from './quotas';

export interface LambdaQuotas {
  /** Concurrent executions per account and Region. */
  accountConcurrency: number;
  /** Environments one function may add per `scaleWindowMs`. */
  scaleEnvironments: number;
  scaleWindowMs: number;
}

/** AWS's defaults (the pages above); a test gives a smaller account through ModelRun.lambda. */
export const LAMBDA_QUOTAS: LambdaQuotas = {
  accountConcurrency: 1_000,
  scaleEnvironments: 1_000,
  scaleWindowMs: 10_000,
};

/**
 * A cold start's init from the bundle's size: a measured Node.js function's init was ~1,000 ms with a 1.5 MB bundle
 * and ~100 ms once bundled and minified to ~260 KB, at 768 MB (memory made no meaningful difference: Momento, "How
 * we turned up the heat on Node.js Lambda cold starts", gomomento.com/blog/how-we-turned-up-the-heat-on-node-js-
 * lambda-cold-starts). Between and beyond the two, a line through them, never under 100 ms; p99 twice the p50.
 */
export function initLatencyFor(bundleBytes: number): Latency {
  const kb = bundleBytes / 1024;
  const p50 = Math.max(100, Math.round(100 + ((kb - 260) * 900) / (1536 - 260)));
  return {
    p50,
    p99: 2 * p50,
    source:
      'gomomento.com/blog/how-we-turned-up-the-heat-on-node-js-lambda-cold-starts (1.5 MB: ~1 s; 260 KB: ~100 ms)',
  };
}

/** Step Functions' Retry of a throttled task (statemachines/fanout.asl.json: Lambda.TooManyRequestsException). */
export interface RetryPolicy {
  attempts: number;
  intervalMs: number;
  backoff: number;
}

interface Span {
  from: number;
  to: number;
}

export interface Invocation {
  /** When the handler starts: after the environment's init on a cold start. */
  startsAt: number;
  /** The invocation's end: its environment is free from then. */
  end(at: number): void;
}

/**
 * The account's functions: environments, cold starts, throttles and concurrency. A function's environments are
 * counted, not placed: an invocation is warm while the function's invocations running at its moment are fewer than
 * its environments (an environment lives for minutes, longer than a run), else it starts one (a cold start).
 */
export class Lambdas implements Meter {
  /** Per function: its invocations not yet known to have ended before the clock, and its environments. */
  private readonly running = new Map<string, Span[]>();
  private readonly environments = new Map<string, number>();
  private readonly created = new Map<string, number[]>();
  /** Throttles, cold starts and the most executions at once, by second. */
  readonly throttles = new Map<number, number>();
  readonly colds = new Map<number, number>();
  private readonly peaks = new Map<number, number>();
  /** Per function: its most executions at once, by second (what a reservation for it must hold). */
  private readonly ownPeaks = new Map<string, Map<number, number>>();
  /** Told of each cold start: a new environment's first reads (its settings: extraTraffic.ts). */
  onCold?: (fn: string, at: number) => void;

  constructor(
    readonly quotas: LambdaQuotas,
    /** Init latency by function logical id; a function without one starts cold with no init. */
    private readonly init: Record<string, Latency>,
    /** Reserved concurrency by function logical id. */
    private readonly reserved: Record<string, number>,
    private readonly draw: (latency: Latency) => number,
    /** The simulation's clock: no invocation is asked for before it, so what ended before it is forgotten. */
    private readonly now: () => number,
  ) {}

  /**
   * An invocation of `fn` asked for at `at`: warm while the function has an environment free, else a cold start if
   * the quotas allow; throttled, it is retried by `retry` (Step Functions) or refused (undefined).
   */
  invoke(fn: string, at: number, retry?: RetryPolicy): Invocation | undefined {
    let t = at;
    let wait = retry?.intervalMs ?? 0;
    for (let attempt = 0; ; attempt++) {
      const started = this.tryStart(fn, t);
      if (started) return started;
      countIn(this.throttles, Math.floor(t / 1000));
      if (!retry || attempt >= retry.attempts) return undefined;
      t += wait;
      wait *= retry.backoff;
    }
  }

  private tryStart(fn: string, at: number): Invocation | undefined {
    const counts = this.runningAt(at);
    const own = counts.get(fn) ?? 0;
    if (!this.admits(fn, counts)) return undefined;
    let startsAt = at;
    if (own >= (this.environments.get(fn) ?? 0)) {
      const made = (this.created.get(fn) ?? []).filter((c) => c > at - this.quotas.scaleWindowMs);
      if (made.length >= this.quotas.scaleEnvironments) return undefined;
      made.push(at);
      this.created.set(fn, made);
      this.environments.set(fn, (this.environments.get(fn) ?? 0) + 1);
      countIn(this.colds, Math.floor(at / 1000));
      this.onCold?.(fn, at);
      const init = this.init[fn];
      if (init) startsAt += this.draw(init);
    }
    const span = { from: at, to: Number.POSITIVE_INFINITY };
    const spans = this.running.get(fn) ?? [];
    spans.push(span);
    this.running.set(fn, spans);
    let total = 1;
    for (const n of counts.values()) total += n;
    const second = Math.floor(at / 1000);
    this.peaks.set(second, Math.max(this.peaks.get(second) ?? 0, total));
    const ownPeaks = this.ownPeaks.get(fn) ?? new Map<number, number>();
    ownPeaks.set(second, Math.max(ownPeaks.get(second) ?? 0, own + 1));
    this.ownPeaks.set(fn, ownPeaks);
    return {
      startsAt,
      end: (endAt: number) => {
        span.to = endAt;
      },
    };
  }

  /** Each function's invocations running at `at` (those that ended before the clock forgotten on the way). */
  private runningAt(at: number): Map<string, number> {
    const now = this.now();
    const counts = new Map<string, number>();
    for (const [fn, spans] of this.running) {
      let n = 0;
      let kept = 0;
      for (const s of spans) {
        if (s.to <= now) continue;
        spans[kept++] = s;
        if (s.from <= at && at < s.to) n++;
      }
      spans.length = kept;
      counts.set(fn, n);
    }
    return counts;
  }

  /** Whether one more execution fits: the function's reservation, else the account's unreserved concurrency. */
  private admits(fn: string, counts: Map<string, number>): boolean {
    const own = this.reserved[fn];
    if (own !== undefined) return (counts.get(fn) ?? 0) < own;
    const reservedTotal = Object.values(this.reserved).reduce((a, b) => a + b, 0);
    let unreserved = 0;
    for (const [name, n] of counts) if (this.reserved[name] === undefined) unreserved += n;
    return unreserved < this.quotas.accountConcurrency - reservedTotal;
  }

  /** The most executions running at once from second `from` on (sampled at each invocation's start). */
  peakConcurrency(from = 0): number {
    let peak = 0;
    for (const [second, n] of this.peaks) if (second >= from) peak = Math.max(peak, n);
    return peak;
  }

  /** Each function's most executions at once from second `from` on, by logical id (functions invoked only). */
  peaksByFunction(from = 0): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [fn, bySecond] of this.ownPeaks) {
      let peak = 0;
      for (const [second, n] of bySecond) if (second >= from) peak = Math.max(peak, n);
      out[fn] = peak;
    }
    return out;
  }

  /** As a quota's meter (tools/bench/quotas.ts): throttles, and the peak ÷ the account's concurrency. */
  refusedSince(from = 0): number {
    return sumSince(this.throttles, from);
  }

  peakUse(from = 0): number {
    return this.peakConcurrency(from) / this.quotas.accountConcurrency;
  }

  coldStartsSince(from = 0): number {
    return sumSince(this.colds, from);
  }
}

/**
 * The reservation a function needs at a load whose busiest second ran `peak` of its executions at once: twice the
 * peak (the model holds an environment for its calls' p50s, and a p99 call takes about three times as long: the AWS
 * profile's DynamoDB 5 / 15 ms), rounded up to ten, at least ten. docs/DECISIONS.md, "Reserved concurrency of Deliver
 * and Messages".
 */
export function reservationFor(peak: number): number {
  return Math.max(10, Math.ceil((2 * peak) / 10) * 10);
}
