import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadSettings } from './settings';

/**
 * Metrics' own diagnostics, less its note that an invocation counted nothing: most invocations of $disconnect, the
 * authorizers and the read-only routes count nothing, and a warning line for each would be paid for as log
 * ingestion and would bury the warnings that matter.
 */
const metricsDiagnostics = {
  debug: (...content: unknown[]) => console.debug(...content),
  info: (...content: unknown[]) => console.info(...content),
  warn: (...content: unknown[]) => {
    if (typeof content[0] === 'string' && content[0].startsWith('No application metrics to publish')) return;
    console.warn(...content);
  },
  error: (...content: unknown[]) => console.error(...content),
};

/**
 * Powertools, set up once per runtime. Service name, namespace and log level come from the template's Globals
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
 */
export const logger = new Logger();
export const metrics = new Metrics({ logger: metricsDiagnostics });
export { MetricUnit };

/**
 * X-Ray tracing, for the functions that opt in by importing functions/platform/tracing.ts (the X-Ray SDK is in their
 * bundle only): the handler's middleware and the capture of each AWS SDK client. The others run neither.
 */
export interface Tracing {
  middleware: middy.MiddlewareObj;
  captureClient<T>(client: T): T;
}
let tracing: Tracing | undefined;

/** Called once, by functions/platform/tracing.ts as it loads. */
export function useTracing(given: Tracing): void {
  tracing = given;
}

/** An AWS SDK client, traced in a function that opted in to tracing, as it is in the others. */
export function traced<T>(client: T): T {
  return tracing ? tracing.captureClient(client) : client;
}

/** Metric names in one place, so the dashboard and the code cannot drift apart. */
export const METRIC = {
  messagesSent: 'MessagesSent',
  deliveries: 'Deliveries',
  /** Posts that carried messages to a member: Deliveries / MessagePosts is the messages each post carried. */
  messagePosts: 'MessagePosts',
  /** Times a fan-out found the posting budget's second full and waited for the next. */
  postBudgetWaits: 'PostBudgetWaits',
  /** Members noted for a resync from history after their post and its one repost both failed. */
  resyncsOwed: 'ResyncsOwed',
  staleConnectionsPruned: 'StaleConnectionsPruned',
  postsThrottled: 'PostsThrottled',
  deliveryFailures: 'DeliveryFailures',
  deliveryLatency: 'DeliveryLatency',
  connections: 'Connections',
  roomsCreated: 'RoomsCreated',
  rejectedFrames: 'RejectedFrames',
  publishFailures: 'PublishFailures',
  /** Emitted by Powertools (logMetrics' captureColdStartMetric), once per new execution environment. */
  coldStart: 'ColdStart',
} as const;

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
    if (tracing) base.use(tracing.middleware);
    return base
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics, { captureColdStartMetric: true }));
  };
  return (event, context) => {
    wrapped ??= chain();
    return wrapped(event, context ?? ({} as Context));
  };
}
