import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { isRequestToken } from '../../protocol';
import { Busy, type ChatError, describeError, PublishFailed, type RequestIds, toErrorFrame } from './errors';
import { instrumented, logger, METRIC, MetricUnit, metrics } from './powertools';
import { parseBody } from './protocol';

export interface FrameRequest {
  connectionId: string;
  body: Record<string, unknown>;
  event: APIGatewayProxyWebsocketEventV2;
  /** Aborted once the route has answered Busy: work still running must not start what a retry would repeat. */
  signal?: AbortSignal;
}

export type FrameHandler = (request: FrameRequest) => Promise<object>;

/** Logs and counts a failed frame: the client's mistakes at info, ours as errors with their stack. */
function recordFailure(error: unknown): void {
  const described = describeError(error);
  if (described.fault === 'client') {
    logger.info('frame rejected', { code: described.code, reason: described.message });
    metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
  } else if (error instanceof PublishFailed) {
    logger.error('publishing to the chat bus failed', error);
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
  } else {
    logger.error('route failed', error as Error);
  }
}

export interface RouteOptions {
  /** The error a frame that is not a JSON object gets instead of the generic BAD_REQUEST (the $default route). */
  notJson?: (connectionId: string) => Promise<ChatError>;
}

/** The ids a frame names itself by, echoed in its reply and its error frame; malformed ids are not echoed. */
function requestIds(body: Record<string, unknown>): RequestIds {
  const { requestId, clientMsgId } = body;
  return {
    ...(isRequestToken(requestId) && { requestId }),
    ...(isRequestToken(clientMsgId) && { clientMsgId }),
  };
}

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

/**
 * Builds the Lambda entry point of a two-way route: parse the frame, run the use case, and return the reply frame
 * as the route response. Every failure becomes an error frame with a short sentence; the detail goes to the log.
 */
export function routeHandler(action: string, handle: FrameHandler, options: RouteOptions = {}) {
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyResultV2> =>
    instrumented(action, async () => {
      if (context) logger.addContext(context);
      const { connectionId, requestId } = event.requestContext;
      logger.appendKeys({ connectionId, action, requestId });
      let ids: RequestIds = {};
      try {
        const body = await parseFrame(event.body, () => options.notJson?.(connectionId));
        ids = requestIds(body);
        const abandon = new AbortController();
        const reply = await beforeTimeout(
          handle({ connectionId, body, event, signal: abandon.signal }),
          context,
          abandon,
        );
        const echoed = ids.requestId === undefined ? reply : { ...reply, requestId: ids.requestId };
        return { statusCode: 200, body: JSON.stringify(echoed) };
      } catch (error) {
        if (error instanceof Busy) {
          logger.warn('no reply before the timeout; answered busy', {
            remainingMs: context?.getRemainingTimeInMillis(),
          });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
        } else recordFailure(error);
        return { statusCode: 200, body: JSON.stringify(toErrorFrame(error, action, ids)) };
      }
    });
}

/** The frame as a JSON object; a frame that is not one gets `notJson`'s error when there is one. */
async function parseFrame(
  body: string | undefined,
  notJson: () => Promise<ChatError> | undefined,
): Promise<Record<string, unknown>> {
  try {
    return parseBody(body);
  } catch (error) {
    throw (await notJson()) ?? error;
  }
}
