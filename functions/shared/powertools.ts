import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Powertools, set up once per runtime. Service name, namespace and log level come from the template's Globals
 * (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL).
 */
export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics();
export { MetricUnit };

/** Metric names in one place, so the dashboard and the code cannot drift apart. */
export const METRIC = {
  messagesSent: 'MessagesSent',
  deliveries: 'Deliveries',
  /** Posts that carried messages to a member: Deliveries / MessagePosts is the messages each post carried. */
  messagePosts: 'MessagePosts',
  /** Fan-out executions that found their room's lease held and left their message to the holder. */
  coalescedExecutions: 'CoalescedExecutions',
  /** Times a fan-out found the posting budget's second full and waited for the next. */
  postBudgetWaits: 'PostBudgetWaits',
  /** Members told to resync from history after their posts failed for the whole retry budget. */
  resyncsOwed: 'ResyncsOwed',
  staleConnectionsPruned: 'StaleConnectionsPruned',
  postsThrottled: 'PostsThrottled',
  deliveryFailures: 'DeliveryFailures',
  deliveryLatency: 'DeliveryLatency',
  connections: 'Connections',
  roomsCreated: 'RoomsCreated',
  rejectedFrames: 'RejectedFrames',
  publishFailures: 'PublishFailures',
} as const;

/**
 * Runs one invocation the way Powertools' middleware would: a `## handler` subsegment with cold-start and service
 * annotations, the error recorded as metadata, and stored metrics flushed at the end.
 */
export async function instrumented<T>(name: string, work: () => Promise<T>): Promise<T> {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  const segment = parent?.addNewSubsegment(`## ${name}`);
  if (segment) {
    tracer.setSegment(segment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
  }
  try {
    return await work();
  } catch (error) {
    if (segment) tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    if (segment && parent) {
      segment.close();
      tracer.setSegment(parent);
    }
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
