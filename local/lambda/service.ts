import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { InvokeMessage, LambdaErrorPayload, SandboxConfig, SandboxMessage } from './protocol';

export interface LocalFunctionSpec {
  logicalId: string;
  name: string;
  arn: string;
  bundlePath: string;
  handlerExport: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** ReservedConcurrentExecutions of the template; absent = no cap. */
  reservedConcurrency?: number;
  environment: Record<string, string>;
}

/** A function error as Step Functions and API Gateway see it: its `name` is the Lambda errorType. */
export class FunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}

/**
 * An error of the Lambda Invoke API itself, not of the function (the function never ran): Step Functions reports
 * it as `Lambda.<name>`, e.g. `Lambda.TooManyRequestsException` when the function's concurrency is used up.
 */
export class LambdaServiceError extends Error {
  readonly service = 'Lambda';
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = name;
  }
}

export type FunctionLog = (functionName: string, line: string, stream: 'stdout' | 'stderr') => void;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * One sandbox (worker thread) per function, started on first invoke (the cold start, logged with its init time).
 * A sandbox serves concurrent invocations; each one's template timeout is enforced, and a sandbox that crashes
 * fails its in-flight invocations and is replaced on the next invoke, as Lambda replaces a broken environment.
 */
class Sandbox {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();

  /** Invocations given to this sandbox and not settled yet, counted from the moment of the invoke. */
  private assigned = 0;

  get load(): number {
    return this.assigned;
  }

  private nextId = 1;

  constructor(
    private readonly spec: LocalFunctionSpec,
    private readonly workerPath: string,
    private readonly log: FunctionLog,
  ) {}

  invoke(event: unknown): Promise<unknown> {
    this.assigned++;
    const settled = () => {
      this.assigned--;
    };
    const running = this.start().then(
      () =>
        new Promise((resolve, reject) => {
          const id = this.nextId++;
          const requestId = randomUUID();
          const timeoutMs = this.spec.timeoutSeconds * 1000;
          const timer = setTimeout(() => {
            this.pending.delete(id);
            this.log(
              this.spec.name,
              `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds (${requestId})`,
              'stderr',
            );
            reject(
              new FunctionError({
                errorType: 'Sandbox.Timedout',
                errorMessage: `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds`,
              }),
            );
          }, timeoutMs);
          this.pending.set(id, { resolve, reject, timer });
          const message: InvokeMessage = {
            kind: 'invoke',
            id,
            requestId,
            event,
            deadlineMs: Date.now() + timeoutMs,
          };
          this.worker?.postMessage(message);
        }),
    );
    running.then(settled, settled);
    return running;
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const config: SandboxConfig = {
      bundlePath: this.spec.bundlePath,
      handlerExport: this.spec.handlerExport,
      functionName: this.spec.name,
      functionArn: this.spec.arn,
      memoryMb: this.spec.memoryMb,
      logGroupName: `/aws/lambda/${this.spec.name}`,
    };
    const worker = new Worker(this.workerPath, {
      workerData: config,
      env: { ...this.spec.environment },
      stdout: true,
      stderr: true,
      // Each sandbox keeps its own heap within the function's memory size, like a Lambda environment.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, this.spec.memoryMb) },
    });
    this.worker = worker;
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: worker[stream] }).on('line', (line) => this.log(this.spec.name, line, stream));
    }
    this.ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: SandboxMessage) => {
        if (message.kind === 'ready') {
          this.log(this.spec.name, `INIT (cold start) in ${message.initMs.toFixed(0)} ms`, 'stdout');
          resolve();
        } else if (message.kind === 'init-error') {
          reject(new FunctionError(message.error));
        } else {
          this.settle(message);
        }
      });
      worker.on('error', (error) => {
        this.log(this.spec.name, `sandbox crashed: ${error.stack ?? error.message}`, 'stderr');
        reject(error);
      });
      worker.on('exit', (code) => {
        this.failAll(`Runtime exited with exit code ${code}`);
        this.worker = undefined;
        this.ready = undefined;
      });
    });
    // A failed start is retried by the next invoke.
    this.ready.catch(() => {
      this.ready = undefined;
      void worker.terminate();
    });
    return this.ready;
  }

  private settle(message: Extract<SandboxMessage, { kind: 'result' | 'error' }>) {
    const pending = this.pending.get(message.id);
    if (!pending) return; // timed out already
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    if (message.kind === 'result') {
      pending.resolve(message.payload === undefined ? undefined : JSON.parse(message.payload));
    } else {
      pending.reject(new FunctionError(message.error));
    }
  }

  private failAll(reason: string) {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new FunctionError({ errorType: 'Runtime.ExitError', errorMessage: reason }));
      this.pending.delete(id);
    }
  }

  async stop(): Promise<void> {
    this.failAll('the local cloud is shutting down');
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (worker) await worker.terminate();
  }
}

/**
 * A function's sandboxes. Lambda runs one invocation per execution environment and adds environments as
 * concurrency grows; here a function gets up to `maxSandboxes` worker threads (one per core by default) and an
 * invocation goes to an idle one, a new one while below the cap, or else the least busy. Without this, every
 * concurrent invocation of a function (the Map state's Deliver chunks) shared one thread.
 */
class SandboxPool {
  private readonly sandboxes: Sandbox[] = [];

  constructor(
    private readonly make: () => Sandbox,
    private readonly maxSandboxes: number,
  ) {}

  pick(): Sandbox {
    const idle = this.sandboxes.find((s) => s.load === 0);
    if (idle) return idle;
    if (this.sandboxes.length < this.maxSandboxes) {
      const fresh = this.make();
      this.sandboxes.push(fresh);
      return fresh;
    }
    return this.sandboxes.reduce((a, b) => (b.load < a.load ? b : a));
  }

  async stop(): Promise<void> {
    await Promise.all(this.sandboxes.map((s) => s.stop()));
  }
}

/** The local Lambda service: invoke a function by logical id, name or ARN. */
export class LocalLambda {
  private readonly pools = new Map<string, SandboxPool>();
  /** Invocations running now, per function (logical id). */
  private readonly running = new Map<string, number>();
  private readonly specByKey = new Map<string, LocalFunctionSpec>();
  /** Invocations refused with TooManyRequestsException, per function (logical id). */
  readonly throttles = new Map<string, number>();

  constructor(
    private readonly specs: LocalFunctionSpec[],
    workerPath: string,
    log: FunctionLog,
    maxSandboxesPerFunction = availableParallelism(),
  ) {
    for (const spec of specs) {
      const pool = new SandboxPool(
        () => new Sandbox(spec, workerPath, log),
        Math.max(1, maxSandboxesPerFunction),
      );
      for (const key of [spec.logicalId, spec.name, spec.arn]) {
        this.pools.set(key, pool);
        this.specByKey.set(key, spec);
      }
    }
  }

  has(function_: string): boolean {
    return this.pools.has(function_);
  }

  invoke(function_: string, event: unknown): Promise<unknown> {
    const pool = this.pools.get(function_);
    if (!pool) {
      return Promise.reject(
        new FunctionError({
          errorType: 'ResourceNotFoundException',
          errorMessage: `Function not found: ${function_}`,
        }),
      );
    }
    // Reserved concurrency caps the invocations running at once; Lambda refuses the rest with 429, it never queues them.
    const spec = this.specByKey.get(function_) as LocalFunctionSpec;
    const running = this.running.get(spec.logicalId) ?? 0;
    if (spec.reservedConcurrency !== undefined && running >= spec.reservedConcurrency) {
      this.throttles.set(spec.logicalId, (this.throttles.get(spec.logicalId) ?? 0) + 1);
      return Promise.reject(new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429));
    }
    this.running.set(spec.logicalId, running + 1);
    const done = () => this.running.set(spec.logicalId, (this.running.get(spec.logicalId) ?? 1) - 1);
    // Lambda hands the function a JSON copy of the event, never the caller's object.
    const invocation = pool.pick().invoke(JSON.parse(JSON.stringify(event)));
    invocation.then(done, done);
    return invocation;
  }

  async close(): Promise<void> {
    await Promise.all([...new Set(this.pools.values())].map((pool) => pool.stop()));
  }

  get functions(): readonly LocalFunctionSpec[] {
    return this.specs;
  }
}
