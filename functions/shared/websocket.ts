import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { ChatDeps } from './chat';
import { awsChatDeps } from './deps';
import { Busy, ChatError, PublishFailed, toErrorFrame } from './errors';
import { instrumented, logger, METRIC, MetricUnit, metrics } from './powertools';
import { parseBody } from './protocol';

export interface FrameRequest {
  connectionId: string;
  body: Record<string, unknown>;
  event: APIGatewayProxyWebsocketEventV2;
  /** Aborted once the route has answered Busy: work still running must not start what a retry would repeat. */
  signal?: AbortSignal;
}

export type FrameHandler = (deps: ChatDeps, request: FrameRequest) => Promise<object>;

let sharedDeps: ChatDeps | undefined;

/**
 * A route answers at the latest this long before its function's timeout: a slow moment (a throttled table, a busy
 * bus) becomes a retryable error frame instead of the gateway's `Internal server error` after the timeout.
 */
export const REPLY_MARGIN_MS = 1500;

/** The work's result, or Busy when it would not finish before the function's timeout (the work is not awaited). */
async function beforeTimeout<T>(work: Promise<T>, context?: Context, abandon?: AbortController): Promise<T> {
  if (!context) return work;
  // If the work fails after the reply went out, that failure must not surface as an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abandon?.abort();
      reject(new Busy());
    }, context.getRemainingTimeInMillis() - REPLY_MARGIN_MS);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The chat dependencies of this runtime, built once and shared by every handler in it. */
export function chatDeps(): ChatDeps {
  sharedDeps ??= awsChatDeps();
  return sharedDeps;
}

/**
 * Builds the Lambda entry point of a two-way route: parse the frame, run the domain, and return the reply frame as
 * the route response. Every failure becomes an error frame with a short sentence; the detail goes to the log.
 */
export function routeHandler(action: string, handle: FrameHandler) {
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyResultV2> =>
    instrumented(action, async () => {
      if (context) logger.addContext(context);
      const { connectionId, requestId } = event.requestContext;
      logger.appendKeys({ connectionId, action, requestId });
      const chat = chatDeps();
      try {
        const body = parseBody(event.body);
        const abandon = new AbortController();
        const reply = await beforeTimeout(
          handle(chat, { connectionId, body, event, signal: abandon.signal }),
          context,
          abandon,
        );
        return { statusCode: 200, body: JSON.stringify(reply) };
      } catch (error) {
        if (error instanceof Busy) {
          logger.warn('no reply before the timeout; answered busy', {
            remainingMs: context?.getRemainingTimeInMillis(),
          });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
        } else if (error instanceof ChatError) {
          logger.info('frame rejected', { code: error.code, reason: error.message });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
        } else if (error instanceof PublishFailed) {
          logger.error('publishing to the chat bus failed', error);
          metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
        } else {
          logger.error('route failed', error as Error);
        }
        return { statusCode: 200, body: JSON.stringify(toErrorFrame(error, action)) };
      }
    });
}
