import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { ChatDeps } from './chat';
import { awsChatDeps } from './deps';
import { ChatError, PublishFailed, toErrorFrame } from './errors';
import { admitFrame, strike } from './guard';
import { guardDeps } from './guardDeps';
import { instrumented, logger, METRIC, MetricUnit, metrics } from './powertools';
import { parseBody } from './protocol';

export interface FrameRequest {
  connectionId: string;
  body: Record<string, unknown>;
  event: APIGatewayProxyWebsocketEventV2;
}

export type FrameHandler = (deps: ChatDeps, request: FrameRequest) => Promise<object>;

let sharedDeps: ChatDeps | undefined;

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
      let chat = chatDeps();
      try {
        // Every frame but sendmessage (its own bucket) counts against the connection's budget (guard.ts).
        if (action !== 'sendmessage') chat = await admitFrame(chat, guardDeps(), connectionId);
        const body = parseBody(event.body);
        const reply = await handle(chat, { connectionId, body, event });
        return { statusCode: 200, body: JSON.stringify(reply) };
      } catch (error) {
        if (error instanceof ChatError) {
          logger.info('frame rejected', { code: error.code, reason: error.message });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
          if ((await strike(guardDeps(), connectionId, error, action)) === 'closed')
            logger.warn('connection closed for abuse', { code: error.code });
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
