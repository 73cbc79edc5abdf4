/**
 * Express executions started in the model (tools/bench/awsModel.ts), by machine, against Step Functions' StartExecution
 * bucket for Express (6,000 refilled 6,000 a second, the same in every Region: regions.ts). Four machines start:
 * - `fanout`: the pipe's StartSyncExecution, one per batch (template.yaml FanoutPipe);
 * - `repost`: the rule RepostThrottled's StartExecution, one per Repost event Deliver publishes;
 * - `departure`: the rule LeaveRooms' StartExecution, one per Departed event, which `$disconnect` publishes for a
 *   connection that followed a room (functions/core/identity/departure.ts);
 * - `broadcast`: the rule BroadcastToEveryone's StartExecution, one per announcement to every connection.
 * A start past the bucket is answered ThrottlingException, and its caller retries it, as AWS does:
 * - the pipe retries a retryable failure of its target an indefinite number of times, not counted against the queue's
 *   maxReceiveCount (EventBridge user guide, "Amazon EventBridge Pipes error handling and troubleshooting"): the batch
 *   waits, its groups locked, and its execution starts late;
 * - a rule retries with exponential back-off and jitter up to its RetryPolicy (attempts, event age: template.yaml, read
 *   by stackLimits.ts), then sends the event to its dead-letter queue: that execution never runs.
 * AWS publishes no base for either back-off: the model draws each retry's delay in [0, 1 s × 2^attempt), as it does
 * for the rule's SendMessage (modelSendPath.ts), the exponent capped so the pipe's delays stay within its batch's
 * visibility. Each start is counted once, where it started (or gave up); each throttled call is a refusal of the quota.
 */
import { countIn, PerSecond, sumSince } from './quotas';

export const MACHINES = ['fanout', 'repost', 'departure', 'broadcast'] as const;
export type Machine = (typeof MACHINES)[number];

/** A rule's RetryPolicy toward its machine: retries at most, and the event's age past which it is dead-lettered. */
export interface StartRetry {
  attempts: number;
  maxAgeMs: number;
}

/** The machines a rule starts (the fan-out's is the pipe's). */
export type RuleMachine = Exclude<Machine, 'fanout'>;

/** Each rule's RetryPolicy as template.yaml ships it (stackLimits.ts reads the template's over these). */
export const RULE_RETRIES: Record<RuleMachine, StartRetry> = {
  repost: { attempts: 3, maxAgeMs: 300_000 },
  departure: { attempts: 185, maxAgeMs: 86_400_000 },
  broadcast: { attempts: 3, maxAgeMs: 300_000 },
};

/** The pipe's: no count and no age (the batch is in flight, its visibility past any delay the cap allows). */
const PIPE_RETRY: StartRetry = { attempts: Number.POSITIVE_INFINITY, maxAgeMs: Number.POSITIVE_INFINITY };
const RETRY_BASE_MS = 1000;
/** 2^5 s: the longest drawn delay a retry waits, 32 s, within the queue's 120 s visibility. */
const MAX_EXPONENT = 5;

/** The starts of a run's measured seconds (ExpressStarts.summary). */
export interface StartSummary {
  /** Starts asked a second (each retry of a throttled one counted), and the busiest second's. */
  mean: number;
  peak: number;
  /** Executions started a second, by machine. */
  byMachine: Record<Machine, number>;
  /** Starts throttled at least once, the retries of them, and those a rule gave up on (dead-lettered). */
  throttled: number;
  retries: number;
  deadLettered: number;
  /** The delay the retries added to the starts throttled (ms): the mean and the longest. */
  meanDelayMs: number;
  maxDelayMs: number;
}

export class ExpressStarts {
  /** Calls against the bucket, by second: each retry one more call. */
  readonly meter: PerSecond;
  private readonly started = new Map<Machine, Map<number, number>>();
  /** Each start throttled at least once, by the second it was asked in: its delay, or undefined when given up. */
  private readonly late: { second: number; delayMs?: number }[] = [];
  private readonly retryCalls = new Map<number, number>();

  constructor(
    limit: number,
    private readonly random: () => number,
    private readonly rules: Record<RuleMachine, StartRetry> = RULE_RETRIES,
  ) {
    this.meter = new PerSecond(limit);
  }

  /**
   * `machine`'s start asked at `at`: when it started, after its caller's retries of any ThrottlingException; undefined
   * when its rule gave up (the event dead-lettered). `at` may lie ahead of the clock (a repost's start is computed).
   */
  start(machine: Machine, at: number): number | undefined {
    const policy = machine === 'fanout' ? PIPE_RETRY : this.rules[machine];
    let t = at;
    for (let attempt = 0; ; attempt++) {
      if (this.meter.take(t)) {
        countIn(this.startedOf(machine), Math.floor(t / 1000));
        if (attempt > 0) this.late.push({ second: Math.floor(at / 1000), delayMs: t - at });
        return t;
      }
      const next = t + this.random() * RETRY_BASE_MS * 2 ** Math.min(attempt, MAX_EXPONENT);
      if (attempt >= policy.attempts || next - at > policy.maxAgeMs) {
        this.late.push({ second: Math.floor(at / 1000) });
        return undefined;
      }
      countIn(this.retryCalls, Math.floor(at / 1000));
      t = next;
    }
  }

  private startedOf(machine: Machine): Map<number, number> {
    let map = this.started.get(machine);
    if (!map) {
      map = new Map();
      this.started.set(machine, map);
    }
    return map;
  }

  /** The measured seconds [from, from + seconds): starts by machine, the throttled ones and what their retries cost. */
  summary(seconds: number, from = 0): StartSummary {
    const r1 = (x: number) => Math.round(x * 10) / 10;
    const inWindow = (second: number) => second >= from && second < from + seconds;
    const per = (map: Map<number, number> | undefined) => {
      let sum = 0;
      for (const [second, n] of map ?? []) if (inWindow(second)) sum += n;
      return r1(sum / Math.max(1, seconds));
    };
    const late = this.late.filter((l) => inWindow(l.second));
    const delays = late.flatMap((l) => (l.delayMs === undefined ? [] : [l.delayMs]));
    const { mean, peak } = this.meter.rate(seconds, from);
    return {
      mean: r1(mean),
      peak,
      byMachine: Object.fromEntries(MACHINES.map((m) => [m, per(this.started.get(m))])) as Record<
        Machine,
        number
      >,
      throttled: late.length,
      retries: sumSince(new Map([...this.retryCalls].filter(([s]) => inWindow(s))), from),
      deadLettered: late.length - delays.length,
      meanDelayMs: delays.length === 0 ? 0 : Math.round(delays.reduce((a, b) => a + b, 0) / delays.length),
      maxDelayMs: Math.round(Math.max(0, ...delays)),
    };
  }
}
