import { Worker } from 'node:worker_threads';
import type { TemplateFile } from '../infra/template';
import type { ExecutionSummary, PutMetricDataInput } from './stepfunctions';
import type { StepFunctionsTestClock } from './testClock';

/**
 * The main thread's side of the Step Functions thread (stepFunctionsThread.ts): it starts executions there and
 * answers the thread's Lambda invocations through the local Lambda service, which lives on the main thread.
 */
export interface StepFunctionsThreadInit {
  /** The template as the main thread read it (the thread does not parse it again). */
  template: TemplateFile;
  parameters?: Record<string, string>;
  /** Each machine's key, by logical id: its SDK tasks are signed with it and checked against its role. */
  credentials: Record<string, { accessKeyId: string; secretAccessKey: string }>;
  /** Tests only: these states' pauses on a shorter clock (testClock.ts); each name in one machine or another. */
  testClock?: StepFunctionsTestClock;
  /** Fault switch: the share 0..1 of Lambda task answers lost after the function ran (stepfunctions.ts). */
  faultLambdaResponseLost?: number;
  /** `--aws-profile`: the profile by name (tools/local/awsProfile.ts) whose transition latency each Task waits. */
  awsProfile?: string;
  /**
   * Tests only: an Int32Array's buffer whose first element the thread adds 1 to as each execution ends, before its
   * summary is posted: a test blocking the main thread reads it there, where no message can arrive.
   */
  endedCounter?: SharedArrayBuffer;
}

/** An error crossing the thread boundary: its name is what Retry and Catch match, so it is kept as it was. */
export interface ThreadError {
  name: string;
  message: string;
}

export type ToStepFunctionsThread =
  | { kind: 'dynamo'; endpoint: string }
  | { kind: 'start'; id: number; logicalId: string; input: unknown; withOutput?: boolean }
  | { kind: 'invoked'; id: number; result?: unknown; error?: ThreadError }
  | { kind: 'close' };

export type FromStepFunctionsThread =
  | { kind: 'ready' }
  | { kind: 'done'; id: number; summary: ThreadExecutionSummary }
  | { kind: 'invoke'; id: number; machine: string; functionArnOrName: string; payload: unknown }
  | { kind: 'metric'; input: PutMetricDataInput }
  | { kind: 'log'; line: string }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

/** An execution's summary, with the wall-clock time (epoch ms) it ended at on the thread. */
export type ThreadExecutionSummary = ExecutionSummary & { endedAt: number };

export interface StepFunctionsThread {
  /** Runs one execution of the machine with this logical id to its end (failures are in the summary). */
  execute(logicalId: string, input: unknown, withOutput?: boolean): Promise<ThreadExecutionSummary>;
  close(): Promise<void>;
}

export const toThreadError = (error: unknown): ThreadError =>
  error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };

export function fromThreadError(error: ThreadError): Error {
  const rebuilt = new Error(error.message);
  rebuilt.name = error.name;
  return rebuilt;
}

/**
 * Starts the thread. It loads the engine and checks the definitions while DynamoDB may still be starting: the
 * machines' DynamoDB tasks reach `dynamoEndpoint` once it is known, and the thread is ready when both are.
 */
export function startStepFunctionsThread(
  workerPath: string,
  init: StepFunctionsThreadInit,
  dynamoEndpoint: string | Promise<string>,
  backends: {
    /**
     * Invokes a function for a task of the machine with this logical id, after checking its role may; Lambda's
     * service errors named `Lambda.<name>`, as Step Functions names them.
     */
    invokeFunction(machine: string, functionArnOrName: string, payload: unknown): Promise<unknown>;
    putMetricData(input: PutMetricDataInput): void;
    log(line: string): void;
  },
): Promise<StepFunctionsThread> {
  const worker = new Worker(workerPath, {
    workerData: init,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const post = (message: ToStepFunctionsThread) => worker.postMessage(message);
  const executions = new Map<number, (summary: ThreadExecutionSummary) => void>();
  let nextId = 1;
  let closed: (() => void) | undefined;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure = error;
    for (const [id, resolve] of executions) {
      executions.delete(id);
      resolve({
        ok: false,
        durationMs: 0,
        error: 'States.Runtime',
        cause: error.message,
        retries: 0,
        states: [],
        endedAt: Date.now(),
      });
    }
  };
  const loaded = new Promise<StepFunctionsThread>((resolve, reject) => {
    worker.on('message', (message: FromStepFunctionsThread) => {
      switch (message.kind) {
        case 'invoke':
          backends.invokeFunction(message.machine, message.functionArnOrName, message.payload).then(
            (result) => post({ kind: 'invoked', id: message.id, result }),
            (error: unknown) => post({ kind: 'invoked', id: message.id, error: toThreadError(error) }),
          );
          return;
        case 'done':
          executions.get(message.id)?.(message.summary);
          executions.delete(message.id);
          return;
        case 'metric':
          return backends.putMetricData(message.input);
        case 'log':
          return backends.log(message.line);
        case 'closed':
          return closed?.();
        case 'error':
          reject(new Error(`local Step Functions thread: ${message.message}`));
          failAll(new Error(message.message));
          return closed?.();
        case 'ready':
          resolve({
            execute: (logicalId, input, withOutput) => {
              if (failure) return Promise.reject(failure);
              const id = nextId++;
              return new Promise<ThreadExecutionSummary>((done) => {
                executions.set(id, done);
                post({ kind: 'start', id, logicalId, input, ...(withOutput && { withOutput }) });
              });
            },
            close: async () => {
              await new Promise<void>((done) => {
                closed = done;
                post({ kind: 'close' });
              });
              await worker.terminate();
            },
          });
      }
    });
    worker.once('error', (error) => {
      reject(error);
      failAll(error);
    });
    worker.once('exit', (code) => {
      const error = new Error(`local Step Functions thread exited with code ${code}`);
      reject(error);
      failAll(error);
      closed?.();
    });
  });
  // The engine's thread and DynamoDB start side by side; a DynamoDB that fails to start stops the thread too.
  const endpointPosted = Promise.resolve(dynamoEndpoint).then(
    (endpoint) => post({ kind: 'dynamo', endpoint }),
    async (error: unknown) => {
      await worker.terminate();
      throw error;
    },
  );
  // A DynamoDB that failed to start is the error to tell: stopping the thread for it ends `loaded` too, with only
  // the thread's exit code, and that must not take its place.
  loaded.catch(() => undefined);
  return endpointPosted.then(() => loaded);
}
