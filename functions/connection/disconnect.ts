import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { disconnect } from '#core/identity/connections';
import { countDisconnect } from '#core/identity/departure';
import { closeSession } from '#core/identity/sessionHooks';
import { limitOwner } from '#core/limits/quotas';
import { releasePlace } from '#core/limits/sourceCap';
import { connectionStore, departureRecords, disconnectCounts, sourcePlaces } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { instrumented } from '#platform/invocation';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  events: eventPublisher(),
  departures: departureRecords(),
  now: systemClock,
}));
const counts = onFirstCall(() => ({ counts: disconnectCounts(), now: systemClock }));
const places = onFirstCall(() => ({
  store: sourcePlaces(),
  get cap() {
    return settings().ConnectionsPerSource;
  },
}));

type DisconnectEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: { identity?: { sourceIp?: string } };
};

/**
 * $disconnect is best-effort on AWS; the connection TTL and 410 pruning cover the times it never runs, and the
 * source's connection cap checks its places with GetConnection when full (sourceCap.ts).
 */
export const handler = instrumented(async (event: DisconnectEvent): Promise<APIGatewayProxyResultV2> => {
  const { connectionId } = event.requestContext;
  logger.appendKeys({ connectionId });
  // Every close is counted for the reconnect storm rule (grace.ts): each comes back through the same connect rate.
  const [gone] = await Promise.all([
    disconnect(deps(), connectionId),
    closeSession(event),
    countDisconnect(counts()),
  ]);
  // The place is the owner's its connection was counted for (a signed-in user's, else its source's). One not given
  // back is found gone when its owner is next full (sourceCap.ts); the close goes on.
  await releasePlace(
    places(),
    limitOwner(gone?.userId, event.requestContext.identity?.sourceIp),
    connectionId,
  ).catch((error: unknown) => logger.error('giving back the connection place failed', error as Error));
  if (gone) await closeSession(event, gone.roomId);
  logger.info('disconnected', { roomId: gone?.roomId, known: gone !== undefined });
  return { statusCode: 200 };
});
