import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { disconnect } from '../shared/connections';
import { onFirstCall } from '../shared/onFirstCall';
import { instrumented, logger } from '../shared/powertools';
import { closeSession } from '../shared/sessionHooks';
import { connectionStore } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({ connections: connectionStore(), events: eventPublisher() }));

/** $disconnect is best-effort on AWS; the connection TTL and 410 pruning cover the times it never runs. */
export const handler = instrumented(
  async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> => {
    const { connectionId } = event.requestContext;
    logger.appendKeys({ connectionId });
    const [gone] = await Promise.all([disconnect(deps(), connectionId), closeSession(event)]);
    if (gone) await closeSession(event, gone.roomId);
    logger.info('disconnected', { roomId: gone?.roomId, known: gone !== undefined });
    return { statusCode: 200 };
  },
);
