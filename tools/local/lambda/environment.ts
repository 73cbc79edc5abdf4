import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import type { InvokeMessage, LambdaErrorPayload, SandboxConfig, SandboxMessage } from './protocol';

/** What the local Lambda service knows of a function: the template's settings and where its bundle is. */
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
  environment: Record<string, string>;
  /** Tests only: the clock its sandboxes' `Date` reads (LambdaTestClock.buffer); absent, the machine's. */
  clock?: SharedArrayBuffer;
}

export type FunctionLog = (functionName: string, line: string, stream: 'stdout' | 'stderr') => void;

/** A function error as Step Functions and API Gateway see it: its `name` is the Lambda errorType. */
export class FunctionError extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(payload.errorMessage);
    this.name = payload.errorType;
  }
}

/** What an invocation gets once the local cloud is shutting down. */
export const shutDown = () =>
  new FunctionError({ errorType: 'Runtime.ExitError', errorMessage: 'the local cloud is shutting down' });

const YOUNG_GENERATION_MB = 8;

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
export class Environment {
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
  ) {
    const config: SandboxConfig = {
      bundlePath: spec.bundlePath,
      handlerExport: spec.handlerExport,
      functionName: spec.name,
      functionArn: spec.arn,
      memoryMb: spec.memoryMb,
      logGroupName: `/aws/lambda/${spec.name}`,
      clock: spec.clock,
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
        // thread per environment that multiplies. A small one keeps each environment's RSS low (the benchmark
        // reports it) at the price of more, cheaper scavenges.
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

  /** Settles when the bundle has loaded (the cold start's end) or failed to. */
  get loaded(): Promise<void> {
    return this.ready;
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
