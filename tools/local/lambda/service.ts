import { availableParallelism } from 'node:os';
import { type Latency, latencyMs } from '../awsProfile';
import type { LocalWait } from '../localWait';
import type { LambdaTestClock } from './clock';
import { Environment, type FunctionLog, type LocalFunctionSpec, shutDown } from './environment';
import { FunctionPool } from './pool';

export { FunctionError, type FunctionLog, type LocalFunctionSpec } from './environment';

/**
 * How much the local Lambda service runs at once. Concurrency and throttling follow Lambda (concurrency =
 * invocations executing, against the account's and each function's reserved concurrency); the number of
 * environments is this machine's, since every execution environment here is a worker thread. An invocation that
 * waits for one is not executing yet: on AWS it would have started at once, so it is checked against the
 * concurrency when it is called and again when its turn comes.
 */
export interface LambdaLimits {
  /** The account's concurrency; functions without reserved concurrency share what the reserved ones leave. */
  accountConcurrency: number;
  /**
   * Execution environments (worker threads) running invocations at once, across every function. An invocation
   * beyond them waits its turn: invocations a client waits for first, then background work (`InvocationKind`).
   */
  environments: number;
  /**
   * Of those, how many background work may always have while it waits, even when requests wait too: the fan-out
   * slows under a flood of sends but never stops (a stopped fan-out's throttled tasks would run out of retries).
   */
  backgroundEnvironments: number;
  /** Idle environments kept warm across all functions; beyond it the least recently used is stopped. */
  maxIdleEnvironments: number;
  /** An environment idle this long is stopped; the next invocation pays a cold start again. */
  idleEnvironmentMs: number;
}

/**
 * Who waits for an invocation. `request`: a client, through the gateway (a route, an authorizer, a REST method),
 * or any synchronous caller. `background`: nobody outside (a state machine's task, an EventBridge target). On AWS
 * both run at once on separate capacity; here they share this machine's few cores, so when invocations wait for an
 * environment, a waiting request goes first.
 */
export type InvocationKind = 'request' | 'background';

/** Lambda's default account concurrency quota. */
const ACCOUNT_CONCURRENCY = 1000;
/** Lambda keeps at least this much of the account's concurrency unreserved. */
const UNRESERVED_MINIMUM = 100;

export const DEFAULT_LAMBDA_LIMITS: LambdaLimits = {
  accountConcurrency: ACCOUNT_CONCURRENCY,
  // One per core. The local services answer a round trip in about a millisecond of their own CPU, so an invocation
  // here computes nearly all the time it runs: more threads than cores only slice the cores, and a request then runs
  // at a fraction of a core behind every other one (four per core made a second member's ack p95 several times
  // what one per core does under one person's flood: docs/MEASUREMENTS.md). With AWS's latencies
  // (`--aws-profile`) invocations mostly wait, so more run at once (LAMBDA_LIMITS_WITH_LATENCIES).
  environments: availableParallelism(),
  // Background work's share when requests wait too: half the environments, at least one. With nothing waiting it
  // takes them all (`turn`).
  backgroundEnvironments: Math.max(1, Math.floor(availableParallelism() / 2)),
  maxIdleEnvironments: 16,
  idleEnvironmentMs: 60_000,
};

/**
 * The bounds under `--aws-profile`, whose latencies make an invocation wait most of the time it runs (a DynamoDB
 * call's ~5 ms, an EventBridge put's ~20 ms): four environments per core overlap those waits, and background work
 * keeps one per core. Each thread is a V8 isolate with its own heap, so they stay a small multiple of the cores.
 */
export const LAMBDA_LIMITS_WITH_LATENCIES: Pick<LambdaLimits, 'environments' | 'backgroundEnvironments'> = {
  environments: 4 * availableParallelism(),
  backgroundEnvironments: availableParallelism(),
};

export type ThrottleReason =
  | 'ConcurrentInvocationLimitExceeded'
  | 'ReservedFunctionConcurrentInvocationLimitExceeded';

/**
 * An error of the Lambda service itself (the Invoke call failed; the function never ran), named as the Invoke API
 * names it. Step Functions reports these with a `Lambda.` prefix (`Lambda.TooManyRequestsException`).
 */
export class LambdaServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
    readonly reason?: ThrottleReason,
  ) {
    super(message);
    this.name = name;
  }
}

type Invoke = (function_: string, payload: unknown) => Promise<unknown>;

/**
 * The invoke a state machine uses. Step Functions names the Lambda service's own errors `Lambda.<name>`
 * (Lambda.TooManyRequestsException), so a Retry or Catch on them matches locally as on AWS; a function's errors
 * (Sandbox.Timedout, the handler's own) keep their name.
 */
export function forStepFunctions(invoke: Invoke): Invoke {
  return async (function_, payload) => {
    try {
      return await invoke(function_, payload);
    } catch (error) {
      if (!(error instanceof LambdaServiceError)) throw error;
      const named = new Error(error.message);
      named.name = `Lambda.${error.name}`;
      throw named;
    }
  };
}

interface Turn {
  /** Gives the invocation its environment: its turn has come. */
  resolve: (env: Environment) => void;
  reject: (error: Error) => void;
  /** When it began to wait, and when its caller stops waiting (if anyone waits). */
  since: number;
  startBy?: number;
  /** Whose request it is: the WebSocket connection of a gateway event, else none (one group for all of those). */
  caller: string;
  pool: FunctionPool;
}

/** True when a waiting request has used more than half of its caller's patience (see `next`). */
function overdue(turn: Turn | undefined, now: number): boolean {
  return turn?.startBy !== undefined && now - turn.since > (turn.startBy - turn.since) / 2;
}

/**
 * The local Lambda service: invoke a function by logical id, name or ARN. At most `environments` invocations run
 * at once; the others wait in one queue where requests (a client waits) go before background work, which keeps
 * `backgroundEnvironments` of them while it waits, and waiting requests are served one caller after another
 * (`next`). A function without an idle environment loads one outside that bound while its invocations wait
 * (`ready`). Nothing else orders the work: the threads share the cores as the operating system schedules them.
 */
export class LocalLambda {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly unique: FunctionPool[] = [];
  /** The bounds in force: the defaults with the caller's overrides. */
  readonly limits: LambdaLimits;
  /** What the account has left for functions without reserved concurrency. */
  private readonly unreservedPool: number;
  private unreservedExecuting = 0;
  /** Invocations holding an environment now, by kind. */
  private readonly running: Record<InvocationKind, number> = { request: 0, background: 0 };
  /** Environments loading their bundle before an invocation holds them (`load`). */
  private loadingOffTurn = 0;
  private readonly waiting: Record<InvocationKind, Turn[]> = { request: [], background: [] };
  /** When each caller's request last took an environment (a count of turns), for serving callers in turn. */
  private readonly served = new Map<string, number>();
  private turns = 0;
  private closed = false;
  private readonly reaper: NodeJS.Timeout;
  private throttleCount = 0;
  /** Throttled invocations so far, by function logical id. */
  readonly throttles = new Map<string, number>();
  /** Invocations started so far, by function logical id (a measure divides each function's CPU by them). */
  private readonly invoked = new Map<string, number>();
  /**
   * `--aws-profile`: Lambda's invocation overhead, waited before the invocation takes its turn (on top of the
   * handler's own time). Absent, none.
   */
  invokeLatency?: Latency;
  /** Tests only (LocalCloudOptions.lambdaTestClock): the clock the sandboxes read, which the test moves. */
  clock?: LambdaTestClock;

  constructor(
    private readonly specs: LocalFunctionSpec[],
    workerPath: string,
    log: FunctionLog,
    limits: Partial<LambdaLimits> = {},
  ) {
    const given = Object.fromEntries(Object.entries(limits).filter(([, value]) => value !== undefined));
    this.limits = { ...DEFAULT_LAMBDA_LIMITS, ...given };
    const reserved = specs.reduce((sum, spec) => sum + (spec.reservedConcurrency ?? 0), 0);
    this.unreservedPool = this.limits.accountConcurrency - reserved;
    // Lambda refuses a reservation that leaves the other functions fewer than 100 (PutFunctionConcurrency).
    const minimum = Math.min(UNRESERVED_MINIMUM, this.limits.accountConcurrency);
    if (this.unreservedPool < minimum) {
      throw new Error(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimum}]: the template reserves ${reserved} of the account's ${this.limits.accountConcurrency}`,
      );
    }
    for (const spec of specs) {
      const pool = new FunctionPool(
        spec,
        (owner) => new Environment(spec, workerPath, log, (env) => owner.forget(env)),
        () => this.trimIdle(),
      );
      this.unique.push(pool);
      for (const key of [spec.logicalId, spec.name, spec.arn]) this.pools.set(key, pool);
    }
    this.reaper = setInterval(
      () => this.reapIdle(),
      Math.max(10, Math.min(5000, this.limits.idleEnvironmentMs / 2)),
    );
    this.reaper.unref();
  }

  has(function_: string): boolean {
    return this.pools.has(function_);
  }

  /**
   * Invokes a function synchronously (the caller waits for its result); `kind` says who waits (InvocationKind).
   * `startBy` (epoch ms) is when the caller stops waiting, e.g. the gateway's integration timeout: an invocation
   * still waiting for an environment then is not started. On AWS it would have started at once (Lambda scales,
   * environments here do not); running it late would put work nobody waits for ahead of live requests. `caller`:
   * whose request it is, for taking turns (`next`); absent, the event's WebSocket connection. `wait`: a caller that
   * does not count the wait for an environment (LocalWait) hears of it, and `startBy` moves by it.
   */
  invoke(
    function_: string,
    event: unknown,
    kind: InvocationKind = 'request',
    startBy?: number,
    caller: string = callerOf(event),
    wait?: LocalWait,
  ): Promise<unknown> {
    const pool = this.pools.get(function_);
    if (!pool) {
      return Promise.reject(
        new LambdaServiceError('ResourceNotFoundException', `Function not found: ${function_}`, 404),
      );
    }
    const refusal = this.throttle(pool);
    if (refusal) return Promise.reject(refusal);
    // Lambda hands the function a JSON copy of the event, never the caller's object.
    const copy = JSON.parse(JSON.stringify(event));
    const overhead = this.invokeLatency ? latencyMs(this.invokeLatency) : 0;
    let waitedMs = 0;
    const takeTurn = (): Promise<Environment> => {
      const since = Date.now();
      wait?.queued();
      // A caller that does not count this wait does not stop waiting in it: no patience to be served by (`next`).
      return this.turn(kind, caller, pool, wait ? undefined : startBy).then(async (env) => {
        // An environment loaded in the turn (a cold start here) is this machine's wait too: its bundle loads on
        // cores every other thread shares, seconds under load, where AWS initialises one in well under a second on
        // capacity of its own. A caller that does not count the wait hears of the invocation once it can run.
        if (wait) await env.loaded.catch(() => undefined);
        waitedMs = Date.now() - since;
        wait?.started(waitedMs);
        return env;
      });
    };
    const turn =
      overhead > 0
        ? new Promise<void>((resolve) => setTimeout(resolve, overhead)).then(takeTurn)
        : takeTurn();
    return turn.then(async (env) => {
      let ran = false;
      try {
        // A caller that does not count the wait here (`wait`) has its deadline moved by it.
        if (startBy !== undefined && Date.now() >= startBy + (wait ? waitedMs : 0))
          throw callerGone(function_);
        // Lambda decides when the invocation would start: an invocation that waited its turn here is checked
        // again, against what executes now.
        const late = this.throttle(pool);
        if (late) throw late;
        const reserved = pool.spec.reservedConcurrency !== undefined;
        pool.executing++;
        this.invoked.set(pool.spec.logicalId, (this.invoked.get(pool.spec.logicalId) ?? 0) + 1);
        if (!reserved) this.unreservedExecuting++;
        try {
          ran = true;
          return await pool.runIn(env, copy);
        } finally {
          pool.executing--;
          if (!reserved) this.unreservedExecuting--;
        }
      } finally {
        if (!ran) pool.release(env);
        this.endTurn(kind);
      }
    });
  }

  /**
   * Resolves with the environment the invocation runs in when its turn comes: at once while fewer than
   * `environments` run and the function has one idle.
   */
  private turn(
    kind: InvocationKind,
    caller: string,
    pool: FunctionPool,
    startBy?: number,
  ): Promise<Environment> {
    if (this.closed) return Promise.reject(shutDown());
    return new Promise((resolve, reject) => {
      this.waiting[kind].push({ resolve, reject, since: Date.now(), startBy, caller, pool });
      pool.waiting++;
      this.dispatch();
    });
  }

  /**
   * Gives free environments to waiting invocations: a request first, unless background work waits with fewer than
   * `backgroundEnvironments` running; else background work. An invocation whose function has no idle environment
   * waits while one loads (`ready`), and the others go first.
   */
  private dispatch(): void {
    while (!this.closed && this.running.request + this.running.background < this.limits.environments) {
      const runnable = (kind: InvocationKind) => this.waiting[kind].some((turn) => this.ready(turn.pool));
      const background = runnable('background');
      const kind: InvocationKind | undefined =
        background && this.running.background < this.limits.backgroundEnvironments
          ? 'background'
          : runnable('request')
            ? 'request'
            : background
              ? 'background'
              : undefined;
      const turn = kind && this.next(kind);
      if (!kind || !turn) return;
      this.running[kind]++;
      turn.pool.waiting--;
      turn.resolve(turn.pool.idle.pop() ?? turn.pool.start());
    }
  }

  /**
   * True when an invocation of `pool` can start now: it has an idle environment, or it must load one in its turn.
   * Else environments load for its waiting invocations outside the turns: on AWS a new environment initialises on
   * capacity of its own and holds back no other invocation, while here a cold start (a bundle's load and first
   * invocation take ~0.3 s of a core) that held one of a few environments made every other caller wait. At most
   * `environments` load at once, and a function has at most `environments` (it never runs more at once).
   */
  private ready(pool: FunctionPool): boolean {
    if (pool.idle.length > 0) return true;
    while (
      !pool.loadFailed &&
      pool.loading < pool.waiting &&
      pool.environments.size < this.limits.environments &&
      this.loadingOffTurn < this.limits.environments
    )
      this.load(pool);
    return pool.loading === 0;
  }

  private load(pool: FunctionPool): void {
    pool.loading++;
    this.loadingOffTurn++;
    const env = pool.start();
    env.loaded
      .catch(() => {
        pool.loadFailed = true;
      })
      .finally(() => {
        pool.loading--;
        this.loadingOffTurn--;
        pool.release(env);
        this.dispatch();
      });
  }

  /**
   * The waiting invocation of `kind` to run next. Background work: the oldest. A request: one of the caller served
   * least recently (a caller: a signed-in person, across their connections, as the gateway tells it; else one
   * connection), so one person's flood of frames waits behind itself, not in front of everyone else's: on
   * AWS every invocation starts at once (Lambda scales to the account's concurrency), and only this machine's few
   * environments make requests wait at all. Of that caller's requests, the oldest, unless it has used half its
   * caller's patience. Then its queue is longer than can be served in time and, oldest first, every request would
   * start just as its caller gives up (a client's retry joining the back only to meet the same fate), so the newest
   * goes first and the oldest are dropped when their turn comes too late (adaptive LIFO).
   */
  private next(kind: InvocationKind): Turn | undefined {
    const queue = this.waiting[kind];
    const runnable = queue.filter((turn) => this.ready(turn.pool));
    if (kind === 'background') {
      const first = runnable[0];
      if (first) queue.splice(queue.indexOf(first), 1);
      return first;
    }
    let caller: string | undefined;
    for (const turn of runnable)
      if (caller === undefined || (this.served.get(turn.caller) ?? 0) < (this.served.get(caller) ?? 0))
        caller = turn.caller;
    const mine = runnable.filter((turn) => turn.caller === caller);
    const chosen = overdue(mine[0], Date.now()) ? mine.at(-1) : mine[0];
    if (chosen === undefined) return undefined;
    queue.splice(queue.indexOf(chosen), 1);
    this.served.set(chosen.caller, ++this.turns);
    if (this.served.size > MAX_CALLERS_KEPT) this.forgetIdleCallers();
    return chosen;
  }

  /** Forgets the turns of callers with nothing waiting: a caller that comes back counts as served long ago. */
  private forgetIdleCallers(): void {
    const waiting = new Set(this.waiting.request.map((turn) => turn.caller));
    for (const caller of this.served.keys()) if (!waiting.has(caller)) this.served.delete(caller);
  }

  /** Hands the ending invocation's environment to the next waiting one (`dispatch`). */
  private endTurn(ended: InvocationKind): void {
    this.running[ended]--;
    this.dispatch();
  }

  /** The refusal Lambda gives an invocation over the function's or the account's concurrency, if any. */
  private throttle(pool: FunctionPool): LambdaServiceError | undefined {
    const reserved = pool.spec.reservedConcurrency;
    let reason: ThrottleReason | undefined;
    if (reserved !== undefined) {
      if (pool.executing >= reserved) reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
    } else if (this.unreservedExecuting >= this.unreservedPool) {
      reason = 'ConcurrentInvocationLimitExceeded';
    }
    if (reason === undefined) return undefined;
    this.throttleCount++;
    this.throttles.set(pool.spec.logicalId, (this.throttles.get(pool.spec.logicalId) ?? 0) + 1);
    return new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429, reason);
  }

  /** Keeps at most `maxIdleEnvironments` idle across functions, stopping the least recently used first. */
  private trimIdle(): void {
    let idle = 0;
    for (const pool of this.unique) idle += pool.idle.length;
    while (idle > this.limits.maxIdleEnvironments) {
      let oldest: { pool: FunctionPool; env: Environment } | undefined;
      for (const pool of this.unique) {
        const env = pool.idle[0];
        if (env && (!oldest || env.idleSince < oldest.env.idleSince)) oldest = { pool, env };
      }
      if (!oldest) return;
      void oldest.env.stop();
      idle--;
    }
  }

  private reapIdle(): void {
    const before = Date.now() - this.limits.idleEnvironmentMs;
    for (const pool of this.unique) {
      // The idle list is in release order, oldest first.
      while ((pool.idle[0]?.idleSince ?? Number.POSITIVE_INFINITY) <= before) void pool.idle[0]?.stop();
    }
  }

  /** Invocations waiting for an environment to be free, by kind. */
  backlog(): Record<InvocationKind, number> {
    return { request: this.waiting.request.length, background: this.waiting.background.length };
  }

  /** Environments per function (running or idle), invocations started and throttled so far. */
  stats(): {
    environments: Record<string, { total: number; idle: number; executing: number }>;
    throttles: number;
    invocations: Record<string, number>;
  } {
    const environments: Record<string, { total: number; idle: number; executing: number }> = {};
    for (const pool of this.unique) {
      environments[pool.spec.logicalId] = {
        total: pool.environments.size,
        idle: pool.idle.length,
        executing: pool.executing,
      };
    }
    return { environments, throttles: this.throttleCount, invocations: Object.fromEntries(this.invoked) };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reaper);
    for (const turn of [...this.waiting.request.splice(0), ...this.waiting.background.splice(0)])
      turn.reject(shutDown());
    await Promise.all(this.unique.map((pool) => pool.stop()));
  }

  /** CPU time (µs) each function's live sandboxes have used, by logical id: what the bench divides by posts. */
  async cpuUsage(): Promise<Record<string, number>> {
    const usage: Record<string, number> = {};
    for (const spec of this.specs)
      usage[spec.logicalId] = await (this.pools.get(spec.logicalId) as FunctionPool).cpuUs();
    return usage;
  }

  get functions(): readonly LocalFunctionSpec[] {
    return this.specs;
  }
}

/** Callers whose last turn is kept before those with nothing waiting are forgotten. */
const MAX_CALLERS_KEPT = 10_000;

/** Whose request an event is: a gateway event's WebSocket connection, else '' (one group). */
function callerOf(event: unknown): string {
  const id = (event as { requestContext?: { connectionId?: unknown } } | undefined)?.requestContext
    ?.connectionId;
  return typeof id === 'string' ? id : '';
}

/** The caller stopped waiting before the invocation had an environment; nobody hears this error. */
function callerGone(function_: string): Error {
  return Object.assign(new Error(`${function_}: the caller stopped waiting before an environment was free`), {
    name: 'CallerGone',
  });
}
