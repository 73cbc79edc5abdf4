import { randomInt } from 'node:crypto';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { systemClock } from '../shared/clock';
import { connect } from '../shared/connections';
import { BadRequest, describeError } from '../shared/errors';
import { onFirstCall } from '../shared/onFirstCall';
import { instrumented, logger, METRIC, MetricUnit, metrics } from '../shared/powertools';
import { parseUsername } from '../shared/protocol';
import { openSession } from '../shared/sessionHooks';
import { connectionStore } from '../shared/wiring/dynamodb';

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & {
  queryStringParameters?: Record<string, string | undefined>;
  /** Set by API Gateway when the $connect authorizer (the token modes) allowed the connection. */
  requestContext: { authorizer?: { username?: unknown; usernameRefused?: unknown; userId?: unknown } };
};

const deps = onFirstCall(() => ({ connections: connectionStore(), now: systemClock }));

/** With an authorizer the token names the user; the query string's `username` is only a hint without one. */
function requestedUsername(event: ConnectEvent): string | undefined {
  const { authorizer } = event.requestContext;
  if (typeof authorizer?.usernameRefused === 'string') throw new BadRequest(authorizer.usernameRefused);
  const verified = authorizer?.username;
  return typeof verified === 'string' ? verified : event.queryStringParameters?.username;
}

/**
 * Who the member is, stable and unique: (`iss`, `sub`) from the token in the token modes (the authorizer's
 * `userId`); without sign-in (AuthMode=none) nothing outlives the connection, so the connection is the identity.
 */
function userIdOf(event: ConnectEvent): string {
  const { authorizer, connectionId } = event.requestContext;
  return typeof authorizer?.userId === 'string' ? authorizer.userId : `connection:${connectionId}`;
}

const guestSuffix = () => String(randomInt(10_000)).padStart(4, '0');

/** $connect: a non-2xx answer refuses the handshake, so a bad username never becomes a connection. */
export const handler = instrumented(async (event: ConnectEvent): Promise<APIGatewayProxyResultV2> => {
  const { connectionId } = event.requestContext;
  logger.appendKeys({ connectionId });
  try {
    const username = parseUsername(requestedUsername(event), guestSuffix);
    const userId = userIdOf(event);
    // The session's record is written at the same time as the connection (sessions.ts).
    await Promise.all([
      connect(deps(), connectionId, { username, userId }),
      openSession(event, { username, userId }),
    ]);
    metrics.addMetric(METRIC.connections, MetricUnit.Count, 1);
    logger.info('connected', { username });
    return { statusCode: 200 };
  } catch (error) {
    const refused = describeError(error);
    if (refused.fault === 'client') logger.info('connection refused', { reason: refused.message });
    else logger.error('connect failed', error as Error);
    return { statusCode: refused.status, body: refused.publicMessage };
  }
});
