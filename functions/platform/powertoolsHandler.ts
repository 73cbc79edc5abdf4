import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracingMiddleware } from './powertools';

/** A Lambda entry point; the context is absent when a test calls the handler directly. */
export type LambdaHandler<E, R> = (event: E, context?: Context) => Promise<R>;

/**
 * Wraps a Lambda entry point in Powertools' Middy middleware: the Lambda context on every log line and the keys
 * appended during the invocation dropped after it, the stored metrics flushed at the end with a ColdStart metric
 * (dimensions service and function_name) on an environment's first invocation, and, in a function that opted in to
 * tracing, a `## <handler>` trace subsegment with the cold-start and service annotations and any error as metadata
 * (not the response: replies carry members' messages). The chain is made at the first invocation, when every module
 * of the bundle, the tracing one included, has loaded.
 *
 * Entry points use `instrumented` (functions/platform/invocation.ts: this and the runtime settings' load); only a
 * function that reads no runtime setting (the authorizers) uses this alone, so its bundle carries no Parameter Store
 * client for the settings document.
 *
 * Middy's early timeout is off: the function's own timeout stays what Lambda and the state machine see, and routes
 * answer before it themselves (websocket.ts). Middy hands a context-less call an empty context; the handler gets
 * none instead, so it never reads a deadline that is not there.
 */
export function withPowertools<E, R>(handler: LambdaHandler<E, R>): LambdaHandler<E, R> {
  let wrapped: middy.MiddyfiedHandler<E, R, Error, Context> | undefined;
  const chain = () => {
    const base = middy(
      (event: E, context: Context) =>
        handler(event, typeof context.getRemainingTimeInMillis === 'function' ? context : undefined),
      { timeoutEarlyInMillis: 0 },
    );
    const traceHandler = tracingMiddleware();
    if (traceHandler) base.use(traceHandler);
    return base
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics, { captureColdStartMetric: true }));
  };
  return (event, context) => {
    wrapped ??= chain();
    return wrapped(event, context ?? ({} as Context));
  };
}
