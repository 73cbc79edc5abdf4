import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type {
  InvokeMessage,
  LambdaErrorPayload,
  PaceMessage,
  PriorityMessage,
  SandboxConfig,
  SandboxMessage,
} from './protocol';

export interface LocalFunctionSpec {
  logicalId: string;
  name: string;
  arn: string;
  bundlePath: string;
  handlerExport: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The template's ReservedConcurrentExecutions: the function's own concurrency, taken from the account's. */
  reservedConcurrency?: number;
  /**
   * Work no client waits on (a state machine's task, not an API's integration): its environments run at a lower
   * CPU priority, so on this machine's few cores the fan-out cannot starve the request routes (docs/PARITY.md).
   */
  background?: boolean;
  environment: Record<string, string>;
}

/**
 * How much the local Lambda service runs at once. Throttling follows Lambda (concurrency = invocations in flight);
 * the environment bounds are this machine's, since every execution environment here is a worker thread.
 */
export interface LambdaLimits {
  /** The account's concurrency; functions without reserved concurrency share what the reserved ones leave. */
  accountConcurrency: number;
  /** Concurrency of one function without ReservedConcurrentExecutions (locally bounded, see docs/PARITY.md). */
  functionConcurrency: number;
  /**
   * Execution environments (worker threads) a background function (one only state machines invoke: the fan-out's
   * Deliver) runs at once; further invocations wait for one. Its invocations are CPU-bound posting.
   */
  environmentsPerFunction: number;
  /**
   * Execution environments a function that routes, authorizers or REST methods invoke runs at once. Such an
   * invocation mostly waits on round trips (SendMessage: five to DynamoDB and one to EventBridge, in sequence), so
   * more environments overlap those waits instead of queueing clients behind them.
   */
  requestEnvironmentsPerFunction: number;
  /** Idle environments kept warm across all functions; beyond it the least recently used is stopped. */
  maxIdleEnvironments: number;
  /** An environment idle this long is stopped; the next invocation pays a cold start again. */
  idleEnvironmentMs: number;
}

/** Lambda's default account concurrency quota. */
const ACCOUNT_CONCURRENCY = 1000;
const YOUNG_GENERATION_MB = 8;
/**
 * The nice value of a background function's environments (0 is the default, 19 the lowest priority). On Linux
 * a thread's nice value is its own, so only that environment's thread yields; elsewhere it would be the whole
 * process's, so it is left alone there. While clients wait for environments the cloud lowers it further for a
 * while (`setBackgroundNiceness`, cloud.ts).
 */
export const BACKGROUND_NICENESS = 10;
/** Lambda keeps at least this much of the account's concurrency unreserved. */
const UNRESERVED_MINIMUM = 100;

export const DEFAULT_LAMBDA_LIMITS: LambdaLimits = {
  accountConcurrency: ACCOUNT_CONCURRENCY,
  functionConcurrency: 100,
  // One per core: on a 2-core machine the fan-out benchmark was fastest with 2 (the threads share the cores with the
  // gateway, dynalite and the clients) and each thread costs memory (docs/PARITY.md).
  environmentsPerFunction: Math.max(2, availableParallelism()),
  // Three per core: at 5x the fan-out's capacity, 2 SendMessage environments acked 87% of sends within 2 s, 4 acked
  // 99.4% and 6 acked 99.97% (docs/RELIABILITY.md, "Overload").
  requestEnvironmentsPerFunction: 3 * Math.max(2, availableParallelism()),
  maxIdleEnvironments: 16,
  idleEnvironmentMs: 60_000,
};

/** A function error as Step Functions and API Gateway see it: its `name` is the Lambda errorType. */
export class FunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}

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

export type FunctionLog = (functionName: string, line: string, stream: 'stdout' | 'stderr') => void;

interface Running {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One execution environment: a worker thread that loads the function's bundle once (the cold start) and runs ONE
 * invocation at a time, as Lambda does, so module state and the Powertools logger's keys belong to one request.
 * An invocation past the function's timeout terminates the thread and the environment is discarded, so the next
 * invocation starts a fresh one (a cold start), as after a Lambda timeout.
 */
class Environment {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private running: Running | undefined;
  private readonly cpuQueries: ((cpuUs: number) => void)[] = [];
  /** The thread's CPU time at its last report (µs). */
  lastCpuUs = 0;
  private nextId = 1;
  /** Set once the thread is stopped or broken; a dead environment is never given another invocation. */
  dead = false;
  idleSince = 0;

  constructor(
    private readonly spec: LocalFunctionSpec,
    workerPath: string,
    private readonly log: FunctionLog,
    private readonly onDeath: (env: Environment) => void,
    /** A background function's nice value and pace now (LocalLambda.setBackgroundNiceness, setBackgroundPace). */
    background: () => { niceness: number; sleepShare: number },
  ) {
    const config: SandboxConfig = {
      bundlePath: spec.bundlePath,
      handlerExport: spec.handlerExport,
      functionName: spec.name,
      functionArn: spec.arn,
      memoryMb: spec.memoryMb,
      logGroupName: `/aws/lambda/${spec.name}`,
      ...(spec.background && process.platform === 'linux' && { niceness: background().niceness }),
      ...(spec.background && { sleepShare: background().sleepShare }),
    };
    this.worker = new Worker(workerPath, {
      workerData: config,
      env: { ...spec.environment },
      stdout: true,
      stderr: true,
      // Each environment keeps its own heap within the function's memory size, like a Lambda environment.
      resourceLimits: {
        maxOldGenerationSizeMb: Math.max(64, spec.memoryMb),
        // V8's default young generation grows to tens of MB per isolate under the SDK's allocation rate; with a
        // thread per environment that multiplies. A small one keeps each environment's RSS low (measured by the
        // benchmark) at the price of more, cheaper scavenges.
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
      },
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: this.worker[stream] }).on('line', (line) => this.log(spec.name, line, stream));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (message: SandboxMessage) => {
        if (message.kind === 'ready') {
          this.log(spec.name, `INIT (cold start) in ${message.initMs.toFixed(0)} ms`, 'stdout');
          resolve();
        } else if (message.kind === 'init-error') {
          reject(new FunctionError(message.error));
          this.stop();
        } else if (message.kind === 'cpu') {
          this.cpuQueries.shift()?.(message.cpuUs);
        } else {
          this.settle(message);
        }
      });
      this.worker.on('error', (error) => {
        this.log(spec.name, `sandbox crashed: ${error.stack ?? error.message}`, 'stderr');
        reject(error);
      });
      this.worker.on('exit', (code) => {
        reject(
          new FunctionError({
            errorType: 'Runtime.ExitError',
            errorMessage: `Runtime exited with exit code ${code}`,
          }),
        );
        this.fail({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with exit code ${code}` });
        this.markDead();
      });
    });
    // A failed start is reported to the invocation that waits on `ready`; the thread is gone either way.
    this.ready.catch(() => this.markDead());
  }

  /** Runs one invocation; the environment must be idle (the pool guarantees it). */
  async invoke(event: unknown): Promise<unknown> {
    await this.ready;
    if (this.dead)
      throw new FunctionError({ errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited' });
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const requestId = randomUUID();
      const timeoutMs = this.spec.timeoutSeconds * 1000;
      const timer = setTimeout(() => this.timeOut(requestId), timeoutMs);
      this.running = { resolve, reject, timer };
      const message: InvokeMessage = {
        kind: 'invoke',
        id,
        requestId,
        event,
        deadlineMs: Date.now() + timeoutMs,
      };
      this.worker.postMessage(message);
    });
  }

  /** Lambda stops the invocation at its timeout: the thread is terminated and this environment discarded. */
  private timeOut(requestId: string): void {
    const seconds = this.spec.timeoutSeconds.toFixed(2);
    this.log(this.spec.name, `Task timed out after ${seconds} seconds (${requestId})`, 'stderr');
    this.fail({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${seconds} seconds` });
    this.stop();
  }

  private settle(message: Extract<SandboxMessage, { kind: 'result' | 'error' }>): void {
    if (Number.isFinite(message.cpuUs)) this.lastCpuUs = message.cpuUs;
    const running = this.running;
    if (!running) return; // timed out already
    this.running = undefined;
    clearTimeout(running.timer);
    if (message.kind === 'result') {
      running.resolve(message.payload === undefined ? undefined : JSON.parse(message.payload));
    } else {
      running.reject(new FunctionError(message.error));
    }
  }

  private fail(payload: LambdaErrorPayload): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearTimeout(running.timer);
    running.reject(new FunctionError(payload));
  }

  /** Changes how this environment's thread yields: its nice value (Linux), or the share of time it sleeps. */
  tell(message: PriorityMessage | PaceMessage): void {
    if (!this.dead) this.worker.postMessage(message);
  }

  /** CPU time (µs) this environment's thread has used: asked while it lives, its last report once it is gone. */
  cpuUs(): Promise<number> {
    if (this.dead) return Promise.resolve(this.lastCpuUs);
    return this.ready.then(
      () =>
        new Promise<number>((resolve) => {
          this.cpuQueries.push((cpuUs) => {
            if (Number.isFinite(cpuUs)) this.lastCpuUs = cpuUs;
            resolve(this.lastCpuUs);
          });
          this.worker.postMessage({ kind: 'cpu' });
        }),
      () => this.lastCpuUs,
    );
  }

  private markDead(): void {
    if (this.dead) return;
    this.dead = true;
    // Questions the thread will never answer get what it last reported.
    for (const answer of this.cpuQueries.splice(0)) answer(this.lastCpuUs);
    this.onDeath(this);
  }

  stop(reason = 'the environment was stopped'): Promise<void> {
    this.fail({ errorType: 'Runtime.ExitError', errorMessage: reason });
    this.markDead();
    return this.worker.terminate().then(() => undefined);
  }
}

/** What an invocation gets once the local cloud is shutting down. */
const shutDown = () =>
  new FunctionError({ errorType: 'Runtime.ExitError', errorMessage: 'the local cloud is shutting down' });

/**
 * A function's execution environments. An invocation takes an idle environment (the most recently used: it is
 * warm), else starts a new one while below `environmentsPerFunction`, else waits for one to be free. Concurrency,
 * as Lambda counts it, is the invocations in flight (running or waiting); the service throttles beyond it.
 */
class FunctionPool {
  readonly environments = new Set<Environment>();
  readonly idle: Environment[] = [];
  private readonly waiting: { resolve: (env: Environment) => void; reject: (error: Error) => void }[] = [];
  /** Invocations waiting for an environment of this function. */
  get queued(): number {
    return this.waiting.length;
  }
  /** Set by stop(): no environment starts after it, so nothing outlives the local cloud. */
  private stopped = false;
  inFlight = 0;
  /** CPU time (µs) of this function's environments that were stopped (reaped, timed out, crashed). */
  private retiredCpuUs = 0;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly maxEnvironments: number,
    private readonly make: (pool: FunctionPool) => Environment,
    private readonly onIdle: () => void,
  ) {}

  async run(event: unknown): Promise<unknown> {
    const env = await this.acquire();
    try {
      return await env.invoke(event);
    } finally {
      this.release(env);
    }
  }

  private acquire(): Promise<Environment> {
    if (this.stopped) return Promise.reject(shutDown());
    const warm = this.idle.pop();
    if (warm) return Promise.resolve(warm);
    if (this.environments.size < this.maxEnvironments) return Promise.resolve(this.start());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private start(): Environment {
    const env = this.make(this);
    this.environments.add(env);
    return env;
  }

  private release(env: Environment): void {
    const next = this.waiting.shift();
    if (next) {
      // A waiting invocation takes this environment, or a fresh one if this one died (timed out or crashed).
      if (env.dead && this.stopped) next.reject(shutDown());
      else next.resolve(env.dead ? this.start() : env);
      return;
    }
    if (env.dead) return;
    env.idleSince = Date.now();
    this.idle.push(env);
    this.onIdle();
  }

  /** Called by an environment whose thread has gone (stopped, timed out, crashed). */
  forget(env: Environment): void {
    if (this.environments.has(env)) this.retiredCpuUs += env.lastCpuUs;
    this.environments.delete(env);
    const at = this.idle.indexOf(env);
    if (at !== -1) this.idle.splice(at, 1);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(shutDown());
    await Promise.all([...this.environments].map((env) => env.stop('the local cloud is shutting down')));
  }

  tell(message: PriorityMessage | PaceMessage): void {
    for (const env of this.environments) env.tell(message);
  }

  /** CPU time (µs) of every environment this function has had, the stopped ones included. */
  async cpuUs(): Promise<number> {
    const each = await Promise.all([...this.environments].map((env) => env.cpuUs()));
    return this.retiredCpuUs + each.reduce((a, b) => a + b, 0);
  }
}

/** The local Lambda service: invoke a function by logical id, name or ARN. */
export class LocalLambda {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly unique: FunctionPool[] = [];
  /** The bounds in force: the defaults with the caller's overrides. */
  readonly limits: LambdaLimits;
  /** What the account has left for functions without reserved concurrency. */
  private readonly unreservedPool: number;
  private unreservedInFlight = 0;
  private readonly reaper: NodeJS.Timeout;
  private throttleCount = 0;
  private backgroundNiceness = BACKGROUND_NICENESS;
  private backgroundSleepShare = 0;
  /** Throttled invocations so far, by function logical id. */
  readonly throttles = new Map<string, number>();

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
      const concurrency = spec.reservedConcurrency ?? this.limits.functionConcurrency;
      const pool = new FunctionPool(
        spec,
        Math.max(
          1,
          Math.min(
            concurrency,
            spec.background
              ? this.limits.environmentsPerFunction
              : this.limits.requestEnvironmentsPerFunction,
          ),
        ),
        (owner) =>
          new Environment(
            spec,
            workerPath,
            log,
            (env) => owner.forget(env),
            () => ({ niceness: this.backgroundNiceness, sleepShare: this.backgroundSleepShare }),
          ),
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

  /**
   * The nice value of background functions' environments, running and future (Linux; elsewhere nothing changes):
   * BACKGROUND_NICENESS normally, lower while clients wait (cloud.ts, yieldWhileClientsWait).
   */
  setBackgroundNiceness(niceness: number): void {
    if (process.platform !== 'linux' || niceness === this.backgroundNiceness) return;
    this.backgroundNiceness = niceness;
    this.tellBackground({ kind: 'priority', niceness });
  }

  /**
   * Makes background functions' environments, running and future, sleep `sleepShare` of the time between tasks
   * (0: run freely): the fan-out's yield where a nice value could not be raised back (local/priority.ts).
   */
  setBackgroundPace(sleepShare: number): void {
    if (sleepShare === this.backgroundSleepShare) return;
    this.backgroundSleepShare = sleepShare;
    this.tellBackground({ kind: 'pace', sleepShare });
  }

  /** Tells every running environment of a background function; new ones start as the fields above say. */
  private tellBackground(message: PriorityMessage | PaceMessage): void {
    for (const pool of this.unique) if (pool.spec.background) pool.tell(message);
  }

  has(function_: string): boolean {
    return this.pools.has(function_);
  }

  invoke(function_: string, event: unknown): Promise<unknown> {
    const pool = this.pools.get(function_);
    if (!pool) {
      return Promise.reject(
        new LambdaServiceError('ResourceNotFoundException', `Function not found: ${function_}`, 404),
      );
    }
    const refusal = this.throttle(pool);
    if (refusal) return Promise.reject(refusal);
    const reserved = pool.spec.reservedConcurrency !== undefined;
    pool.inFlight++;
    if (!reserved) this.unreservedInFlight++;
    // Lambda hands the function a JSON copy of the event, never the caller's object.
    const running = pool.run(JSON.parse(JSON.stringify(event)));
    const settled = () => {
      pool.inFlight--;
      if (!reserved) this.unreservedInFlight--;
    };
    running.then(settled, settled);
    return running;
  }

  /** The refusal Lambda gives an invocation over the function's or the account's concurrency, if any. */
  private throttle(pool: FunctionPool): LambdaServiceError | undefined {
    const reserved = pool.spec.reservedConcurrency;
    let reason: ThrottleReason | undefined;
    if (reserved !== undefined) {
      if (pool.inFlight >= reserved) reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
    } else if (
      pool.inFlight >= this.limits.functionConcurrency ||
      this.unreservedInFlight >= this.unreservedPool
    ) {
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

  /** Environments per function (running or idle) and throttled invocations so far. */
  /**
   * Invocations of request functions (those routes, authorizers and REST methods invoke) waiting for an
   * environment: clients are waiting on work the machine has no room for right now.
   */
  requestBacklog(): number {
    return this.unique.reduce((n, pool) => n + (pool.spec.background ? 0 : pool.queued), 0);
  }

  stats(): {
    environments: Record<string, { total: number; idle: number; inFlight: number }>;
    throttles: number;
  } {
    const environments: Record<string, { total: number; idle: number; inFlight: number }> = {};
    for (const pool of this.unique) {
      environments[pool.spec.logicalId] = {
        total: pool.environments.size,
        idle: pool.idle.length,
        inFlight: pool.inFlight,
      };
    }
    return { environments, throttles: this.throttleCount };
  }

  async close(): Promise<void> {
    clearInterval(this.reaper);
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
