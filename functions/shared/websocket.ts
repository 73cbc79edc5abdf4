import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { isRequestToken } from '../../protocol';
import type { ChatDeps } from './chat';
import { awsChatDeps } from './deps';
import type { RequestIds } from './errors';
import { ChatError, PublishFailed, toErrorFrame } from './errors';
import { instrumented, logger, METRIC, MetricUnit, metrics } from './powertools';
import { parseBody } from './protocol';

export interface FrameRequest {
  connectionId: string;
  body: Record<string, unknown>;
  event: APIGatewayProxyWebsocketEventV2;
}

export type FrameHandler = (deps: ChatDeps, request: FrameRequest) => Promise<object>;

export interface RouteOptions {
  /** The error a frame that is not a JSON object gets instead of the generic BAD_REQUEST (the $default route). */
  notJson?: (deps: ChatDeps, connectionId: string) => Promise<ChatError>;
}

/** The ids a frame names itself by, echoed in its reply and its error frame; malformed ids are not echoed. */
function requestIds(body: Record<string, unknown>): RequestIds {
  const { requestId, clientMsgId } = body;
  return {
    ...(isRequestToken(requestId) && { requestId }),
    ...(isRequestToken(clientMsgId) && { clientMsgId }),
  };
}

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
export function routeHandler(action: string, handle: FrameHandler, options: RouteOptions = {}) {
  return async (
    event: APIGatewayProxyWebsocketEventV2,
    context?: Context,
  ): Promise<APIGatewayProxyResultV2> =>
    instrumented(action, async () => {
      if (context) logger.addContext(context);
      const { connectionId, requestId } = event.requestContext;
      logger.appendKeys({ connectionId, action, requestId });
      const chat = chatDeps();
      let ids: RequestIds = {};
      try {
        const body = await parseFrame(event.body, () => options.notJson?.(chat, connectionId));
        ids = requestIds(body);
        const reply = await handle(chat, { connectionId, body, event });
        const echoed = ids.requestId === undefined ? reply : { ...reply, requestId: ids.requestId };
        return { statusCode: 200, body: JSON.stringify(echoed) };
      } catch (error) {
        if (error instanceof ChatError) {
          logger.info('frame rejected', { code: error.code, reason: error.message });
          metrics.addMetric(METRIC.rejectedFrames, MetricUnit.Count, 1);
        } else if (error instanceof PublishFailed) {
          logger.error('publishing to the chat bus failed', error);
          metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
        } else {
          logger.error('route failed', error as Error);
        }
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
