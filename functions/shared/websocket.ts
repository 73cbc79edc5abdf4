import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { describeError, PublishFailed, toErrorFrame } from './errors';
import { instrumented, logger, METRIC, MetricUnit, metrics } from './powertools';
import { parseBody } from './protocol';

export interface FrameRequest {
  connectionId: string;
  body: Record<string, unknown>;
  event: APIGatewayProxyWebsocketEventV2;
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

/**
 * Builds the Lambda entry point of a two-way route: parse the frame, run the use case, and return the reply frame
 * as the route response. Every failure becomes an error frame with a short sentence; the detail goes to the log.
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
      try {
        const body = parseBody(event.body);
        const reply = await handle({ connectionId, body, event });
        return { statusCode: 200, body: JSON.stringify(reply) };
      } catch (error) {
        recordFailure(error);
        return { statusCode: 200, body: JSON.stringify(toErrorFrame(error, action)) };
      }
    });
}
