/** Messages between the local Lambda service (main thread) and a function's sandbox (worker thread). */
export interface SandboxConfig {
  bundlePath: string;
  handlerExport: string;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  logGroupName: string;
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
  | { kind: 'result'; id: number; payload: string | undefined; durationMs: number }
  | { kind: 'error'; id: number; error: LambdaErrorPayload; durationMs: number };

/** The shape Lambda returns for a function error (FunctionError: Unhandled). */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}
