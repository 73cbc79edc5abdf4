/** Messages between the local Lambda service (main thread) and a function's sandbox (worker thread). */
export interface SandboxConfig {
  bundlePath: string;
  handlerExport: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logGroupName: string;
  /** Tests only: the clock the sandbox's `Date` reads (lambda/clock.ts); absent, the machine's. */
  clock?: SharedArrayBuffer;
}

/** Asks a sandbox for the CPU time its thread has used so far (the bench reads Deliver's CPU per post). */
export interface CpuQuery {
  kind: 'cpu';
}

export interface InvokeMessage {
  kind: 'invoke';
  id: number;
  requestId: string;
  event: unknown;
  deadlineMs: number;
}

export type SandboxMessage =
  | { kind: 'ready'; initMs: number }
  | { kind: 'init-error'; error: LambdaErrorPayload }
  /** `cpuUs`: the thread's CPU time so far, so an environment that is later stopped still counts what it used. */
  | { kind: 'result'; id: number; payload: string | undefined; durationMs: number; cpuUs: number }
  | { kind: 'error'; id: number; error: LambdaErrorPayload; durationMs: number; cpuUs: number }
  /** CPU time of the sandbox's thread in µs (Linux /proc/thread-self/schedstat), NaN where unknown. */
  | { kind: 'cpu'; cpuUs: number };

/** The shape Lambda returns for a function error (FunctionError: Unhandled). */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}
