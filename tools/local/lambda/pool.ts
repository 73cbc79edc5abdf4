import { type Environment, type LocalFunctionSpec, shutDown } from './environment';

/**
 * A function's execution environments. An invocation is given one with its turn (`LocalLambda.dispatch`): an idle
 * one (the most recently used: it is warm), or one that has just loaded for it (a cold start).
 */
export class FunctionPool {
  readonly environments = new Set<Environment>();
  readonly idle: Environment[] = [];
  /** Set by stop(): no environment starts after it, so nothing outlives the local cloud. */
  private stopped = false;
  /** Invocations executing in an environment: the function's concurrency, as Lambda counts it. */
  executing = 0;
  /** Invocations of this function waiting for their turn. */
  waiting = 0;
  /** Environments of this function loading their bundle before any invocation holds them (`LocalLambda.load`). */
  loading = 0;
  /** The last such load failed: the next invocation loads one in its turn, to be told the init error. */
  loadFailed = false;
  /** CPU time (µs) of this function's environments that were stopped (reaped, timed out, crashed). */
  private retiredCpuUs = 0;

  constructor(
    readonly spec: LocalFunctionSpec,
    private readonly make: (pool: FunctionPool) => Environment,
    private readonly onIdle: () => void,
  ) {}

  /** Runs `event` in `env`, which this invocation was given with its turn, and makes it idle after. */
  async runIn(env: Environment, event: unknown): Promise<unknown> {
    if (this.stopped) throw shutDown();
    try {
      return await env.invoke(event);
    } finally {
      this.release(env);
    }
  }

  start(): Environment {
    const env = this.make(this);
    this.environments.add(env);
    env.loaded.then(
      () => {
        this.loadFailed = false;
      },
      () => undefined,
    );
    return env;
  }

  release(env: Environment): void {
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
    await Promise.all([...this.environments].map((env) => env.stop('the local cloud is shutting down')));
  }

  /** CPU time (µs) of every environment this function has had, the stopped ones included. */
  async cpuUs(): Promise<number> {
    const each = await Promise.all([...this.environments].map((env) => env.cpuUs()));
    return this.retiredCpuUs + each.reduce((a, b) => a + b, 0);
  }
}
