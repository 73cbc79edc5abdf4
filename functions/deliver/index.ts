import type { Context } from 'aws-lambda';
import { systemClock } from '../shared/clock';
import { type DeliveryReport, postToConnections } from '../shared/delivery';
import { onFirstCall } from '../shared/onFirstCall';
import { instrumented, logger, METRIC, MetricUnit, metrics, tracer } from '../shared/powertools';
import { notifier } from '../shared/wiring/managementApi';

/** One Map iteration of the fan-out state machine. */
export interface DeliverInput {
  connectionIds: string[];
  payload: string;
  messageId: string;
  attempt?: number;
}

/** The state machine retries only `retryIds` (429/5xx), so a connection that got the message never gets it twice. */
const LAST_ATTEMPT = 5;

const deps = onFirstCall(() => ({ notifier: notifier(), now: systemClock }));

/** Time from the send (the frame's sentAt) to the end of this chunk's posts; one parse per chunk. */
function sinceSent(payload: string, now: Date): number | undefined {
  try {
    const sentAt = Date.parse((JSON.parse(payload) as { sentAt?: string }).sentAt ?? '');
    return Number.isNaN(sentAt) ? undefined : Math.max(0, now.getTime() - sentAt);
  } catch {
    return undefined;
  }
}

export const handler = async (input: DeliverInput, context?: Context): Promise<DeliveryReport> =>
  instrumented('deliver', async () => {
    if (context) logger.addContext(context);
    if (!Array.isArray(input?.connectionIds) || typeof input.payload !== 'string') {
      throw new TypeError('Deliver expects { connectionIds: string[], payload: string, messageId }');
    }
    const attempt = input.attempt ?? 1;
    logger.setCorrelationId(input.messageId);
    tracer.putAnnotation('messageId', input.messageId);
    const { notifier, now } = deps();
    const report = await postToConnections(notifier, input.connectionIds, input.payload);
    metrics.addMetric(METRIC.deliveries, MetricUnit.Count, report.delivered);
    metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, report.goneIds.length);
    metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, report.retryIds.length);
    const undeliverable = report.failedIds.length + (attempt >= LAST_ATTEMPT ? report.retryIds.length : 0);
    metrics.addMetric(METRIC.deliveryFailures, MetricUnit.Count, undeliverable);
    const latencyMs = sinceSent(input.payload, now());
    if (latencyMs !== undefined)
      metrics.addMetric(METRIC.deliveryLatency, MetricUnit.Milliseconds, latencyMs);
    const summary = {
      attempt,
      chunk: input.connectionIds.length,
      delivered: report.delivered,
      gone: report.goneIds.length,
      retry: report.retryIds.length,
      failed: report.failedIds.length,
    };
    if (undeliverable > 0) logger.warn('chunk delivered with failures', summary);
    else logger.info('chunk delivered', summary);
    return report;
  });
