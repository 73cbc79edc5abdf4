import { readFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { installSandboxClock } from './clock';
import type { CpuQuery, InvokeMessage, LambdaErrorPayload, SandboxConfig, SandboxMessage } from './protocol';

/**
 * One function's sandbox: loads its bundle once (the cold start) and runs invocations with a Lambda-like context.
 * The environment (process.env) is this worker's own copy, set from the template by the local Lambda service.
 */
type Handler = (event: unknown, context: object) => unknown;

const config = workerData as SandboxConfig;
const port = parentPort;
if (!port) throw new Error('the Lambda sandbox must run in a worker thread');

const toErrorPayload = (error: unknown): LambdaErrorPayload => {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorType: e.name || 'Error', errorMessage: e.message, trace: e.stack?.split('\n') };
};

const send = (message: SandboxMessage) => port.postMessage(message);

// A test's clock (LocalCloudOptions.lambdaTestClock) is in place before the bundle reads the time; the invocation's
// deadline stays on the machine's clock, as the local Lambda service times it.
const machineNow = config.clock ? installSandboxClock(config.clock) : Date.now;

let handler: Handler | undefined;
const initStarted = performance.now();
// V8's code for the bundle is cached on disk (Node's compile cache, keyed by the file's contents), so a function's
// later environments skip compiling it: a third of a cold start's bundle load, which on AWS runs on the
// environment's own CPU but here on the cores every invocation shares. What the bundle does at load is unchanged.
// (Node 22.1+; @types/node 20 does not declare it.)
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
try {
  // The bundle is CommonJS, as esbuild builds it for the template (Format: cjs).
  const module = require(config.bundlePath) as Record<string, unknown>;
  const exported = module[config.handlerExport];
  if (typeof exported !== 'function') {
    throw new Error(`${config.bundlePath} does not export a function named "${config.handlerExport}"`);
  }
  handler = exported as Handler;
  send({ kind: 'ready', initMs: performance.now() - initStarted });
} catch (error) {
  send({ kind: 'init-error', error: toErrorPayload(error) });
}

function contextFor(message: InvokeMessage) {
  return {
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: config.functionArn,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: config.logGroupName,
    logStreamName: `local/[$LATEST]${message.requestId.replace(/-/g, '')}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineMs - machineNow()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** This thread's CPU time (µs): the first field of schedstat is the time it ran, in ns. */
function threadCpuUs(): number {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000;
  } catch {
    return Number.NaN;
  }
}

port.on('message', async (message: InvokeMessage | CpuQuery) => {
  if (message.kind === 'cpu') {
    send({ kind: 'cpu', cpuUs: threadCpuUs() });
    return;
  }
  if (message.kind !== 'invoke' || !handler) return;
  const started = performance.now();
  try {
    const result = await handler(message.event, contextFor(message));
    // Lambda serializes the result as JSON; so does the sandbox, so a non-serializable result fails the same way.
    const payload = result === undefined ? undefined : JSON.stringify(result);
    const durationMs = performance.now() - started;
    send({ kind: 'result', id: message.id, payload, durationMs, cpuUs: threadCpuUs() });
  } catch (error) {
    send({
      kind: 'error',
      id: message.id,
      error: toErrorPayload(error),
      durationMs: performance.now() - started,
      cpuUs: threadCpuUs(),
    });
  }
});
