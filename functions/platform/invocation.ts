import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics, tracingMiddleware } from './powertools';
import { loadSettings } from './settings';

/**
 * What every invocation runs through: Powertools' middleware (functions/platform/powertools.ts) and the runtime
 * settings' load (functions/platform/settings.ts). It sits above both because settings.ts itself logs and traces
 * through powertools.ts; the wrapper living in powertools.ts made the two import each other.
 */

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
 * Middy's early timeout is off: the function's own timeout stays what Lambda and the state machine see, and routes
 * answer before it themselves (websocket.ts). Middy hands a context-less call an empty context; the handler gets
 * none instead, so it never reads a deadline that is not there.
 */
export function instrumented<E, R>(handler: LambdaHandler<E, R>): LambdaHandler<E, R> {
  let wrapped: middy.MiddyfiedHandler<E, R, Error, Context> | undefined;
  const chain = () => {
    const base = middy(
      async (event: E, context: Context) => {
        // The runtime settings of this invocation, first (functions/platform/settings.ts): every entry point, the
        // WebSocket routes, the REST routes, the authorizers and Deliver, comes through here.
        await loadSettings();
        return handler(event, typeof context.getRemainingTimeInMillis === 'function' ? context : undefined);
      },
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
