import type { Context } from 'aws-lambda';
import type { ClaimResult } from '../domain/fanout/coalescing';
import { type DeliveryReport, postToConnections } from '../domain/fanout/delivery';
import { systemClock } from '../platform/clock';
import { onFirstCall } from '../platform/onFirstCall';
import { instrumented, logger, METRIC, MetricUnit, metrics, tracer } from '../platform/powertools';
import { fanoutStore, leaseSweep } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';
import { notifier } from '../platform/wiring/managementApi';
import { type CycleInput, type PostReport, runCycleStep } from './cycle';
import { noteUnreached, type UnreachedInput } from './handOver';
import { sweepStrandedRooms } from './sweep';
import type { PageStep } from './timeBound';
import { deadlineOf } from './timing';

/** One Map iteration of the fan-out of a presence change or a broadcast (a room's messages: cycle.ts). */
export interface DeliverInput {
  connectionIds: string[];
  payload: string;
  messageId: string;
  attempt?: number;
  /**
   * Rounds of posts the state machine gives a chunk (the template's FanoutDeliveryAttempts). It posts again only to
   * `retryIds`, so a connection that got the message never gets it twice; after the last round they are failures.
   * Absent (a direct invoke), this round is the last.
   */
  maxAttempts?: number;
}

export { GIVE_UP_MS, STOP_POSTING_MS } from './timing';

const deps = onFirstCall(() => ({ notifier: notifier(), now: systemClock }));

/** The scheduled sweep's input (template.yaml, SweepStrandedRooms). */
export interface SweepInput {
  op: 'sweep';
}

/** What the sweep and a failed repost's resync notes need: the rooms' fan-out state and the chat bus. */
const roomDeps = onFirstCall(() => ({
  sweep: leaseSweep(),
  store: fanoutStore(),
  publisher: eventPublisher(),
  now: Date.now,
  random: Math.random,
}));

/** Time from the send (the frame's sentAt) to the end of this chunk's posts; one parse per chunk. */
function sinceSent(payload: string, now: Date): number | undefined {
  try {
    const sentAt = Date.parse((JSON.parse(payload) as { sentAt?: string }).sentAt ?? '');
    return Number.isNaN(sentAt) ? undefined : Math.max(0, now.getTime() - sentAt);
  } catch {
    return undefined;
  }
}

const instrumentedHandler = instrumented(
  async (
    input: DeliverInput | CycleInput | SweepInput | UnreachedInput,
    context?: Context,
  ): Promise<
    DeliveryReport | ClaimResult | PostReport | PageStep | { recovered: number } | { resyncs: number }
  > => {
    if (input && 'op' in input && input.op === 'sweep') return sweepStrandedRooms(roomDeps());
    if (input && 'op' in input && input.op === 'unreached') return noteUnreached(roomDeps(), input);
    return input && 'op' in input ? runCycleStep(input, context) : deliverChunk(input, context);
  },
);

export function handler(input: DeliverInput, context?: Context): Promise<DeliveryReport>;
export function handler(input: CycleInput, context?: Context): Promise<ClaimResult | PostReport | PageStep>;
export function handler(input: SweepInput, context?: Context): Promise<{ recovered: number }>;
export function handler(input: UnreachedInput, context?: Context): Promise<{ resyncs: number }>;
export function handler(
  input: DeliverInput | CycleInput | SweepInput | UnreachedInput,
  context?: Context,
): Promise<
  DeliveryReport | ClaimResult | PostReport | PageStep | { recovered: number } | { resyncs: number }
> {
  return instrumentedHandler(input, context);
}

async function deliverChunk(input: DeliverInput, context?: Context): Promise<DeliveryReport> {
  if (!Array.isArray(input?.connectionIds) || typeof input.payload !== 'string') {
    throw new TypeError('Deliver expects { connectionIds: string[], payload: string, messageId }');
  }
  const attempt = input.attempt ?? 1;
  const lastAttempt = input.maxAttempts ?? attempt;
  logger.setCorrelationId(input.messageId);
  logger.debug('posting to chunk', { attempt, of: lastAttempt, chunk: input.connectionIds.length });
  tracer.putAnnotation('messageId', input.messageId);
  const { notifier, now } = deps();
  const report = await postToConnections(notifier, input.connectionIds, input.payload, deadlineOf(context));
  metrics.addMetric(METRIC.deliveries, MetricUnit.Count, report.delivered);
  metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, report.goneIds.length);
  metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, report.retryIds.length);
  const undeliverable = report.failedIds.length + (attempt >= lastAttempt ? report.retryIds.length : 0);
  metrics.addMetric(METRIC.deliveryFailures, MetricUnit.Count, undeliverable);
  const latencyMs = sinceSent(input.payload, now());
  if (latencyMs !== undefined) metrics.addMetric(METRIC.deliveryLatency, MetricUnit.Milliseconds, latencyMs);
  const summary = {
    attempt,
    chunk: input.connectionIds.length,
    delivered: report.delivered,
    gone: report.goneIds.length,
    retry: report.retryIds.length,
    unconfirmed: report.unconfirmedIds.length,
    failed: report.failedIds.length,
  };
  if (undeliverable > 0) logger.warn('chunk delivered with failures', summary);
  else logger.info('chunk delivered', summary);
  return report;
}
