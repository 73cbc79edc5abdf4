import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';

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
interface Tracing {
  middleware: middy.MiddlewareObj;
  captureClient<T>(client: T): T;
}
let tracing: Tracing | undefined;

/** Called once, by functions/platform/tracing.ts as it loads. */
export function useTracing(given: Tracing): void {
  tracing = given;
}

/** The handler's trace middleware in a function that opted in to tracing; none in the others. */
export function tracingMiddleware(): middy.MiddlewareObj | undefined {
  return tracing?.middleware;
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
  /** Members noted for a resync from history after their post, its one repost and the resync frame's tries failed. */
  resyncsOwed: 'ResyncsOwed',
  /** Members told by a resync frame after their post and its one repost failed (deliver/post.ts resyncNow). */
  resyncsTold: 'ResyncsTold',
  staleConnectionsPruned: 'StaleConnectionsPruned',
  postsThrottled: 'PostsThrottled',
  deliveryFailures: 'DeliveryFailures',
  deliveryLatency: 'DeliveryLatency',
  connections: 'Connections',
  roomsCreated: 'RoomsCreated',
  rejectedFrames: 'RejectedFrames',
  publishFailures: 'PublishFailures',
  /** Reads of the settings document that failed (platform/settings.ts): a new environment refuses requests BUSY. */
  settingsUnreadable: 'SettingsUnreadable',
  /** Emitted by Powertools (logMetrics' captureColdStartMetric), once per new execution environment. */
  coldStart: 'ColdStart',
} as const;
