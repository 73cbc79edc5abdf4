import { randomInt } from 'node:crypto';
import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { BadRequest, describeError } from '#core/errors';
import { connect } from '#core/identity/connections';
import { openSession } from '#core/identity/sessionHooks';
import { limitSettings } from '#core/limits/limitSettings';
import { admitConnect, limitOwner } from '#core/limits/quotas';
import { claimPlace, releasePlace } from '#core/limits/sourceCap';
import { parseResumeToken, parseUsername } from '#core/protocol';
import { connectionStore, quotaStore, sourcePlaces } from '#core/wiring/dynamodb';
import { connectionProbe } from '#core/wiring/managementApi';
import { systemClock } from '#platform/clock';
import { instrumented } from '#platform/invocation';
import { onFirstCall } from '#platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { settings } from '#platform/settings';

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & {
  queryStringParameters?: Record<string, string | undefined>;
  requestContext: {
    /** Set by API Gateway when the $connect authorizer (the token modes) allowed the connection. */
    authorizer?: { username?: unknown; usernameRefused?: unknown; userId?: unknown };
    /** API Gateway sends it with every WebSocket event; @types/aws-lambda omits it. */
    identity?: { sourceIp?: string };
  };
};

const deps = onFirstCall(() => ({ connections: connectionStore(), now: systemClock }));
const places = onFirstCall(() => ({
  store: sourcePlaces(),
  isOpen: connectionProbe(),
  // Runtime settings are getters: read from the settings document on every invocation (platform/settings.ts).
  get cap() {
    return settings().ConnectionsPerSource;
  },
  now: systemClock,
}));
const handshakes = onFirstCall(() => ({
  store: quotaStore(),
  get rate() {
    return limitSettings.connectRate();
  },
  now: systemClock,
}));

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

/**
 * $connect: a non-2xx answer refuses the handshake, so a bad username never becomes a connection, and a source
 * already at its cap of live connections gets 429 (sourceCap.ts). A refused handshake stores nothing.
 */
export const handler = instrumented(
  async (event: ConnectEvent, context): Promise<APIGatewayProxyResultV2> => {
    const { connectionId } = event.requestContext;
    // API Gateway completes the handshake once this invocation answers: by its end at the latest, plus a second.
    const handshakeEndsAt = context ? Date.now() + context.getRemainingTimeInMillis() + 1000 : undefined;
    logger.appendKeys({ connectionId });
    try {
      const username = parseUsername(requestedUsername(event), guestSuffix);
      const userId = userIdOf(event);
      const sendScope = parseResumeToken(event.queryStringParameters?.resume);
      // Counted per signed-in user where there is sign-in, else per source (quotas.ts): no one locks out a NAT.
      const owner = limitOwner(userId, event.requestContext.identity?.sourceIp);
      await admitConnect(handshakes(), owner);
      await claimPlace(places(), owner, connectionId);
      // The session's record is written at the same time as the connection (sessions.ts).
      await Promise.all([
        connect(deps(), connectionId, { username, userId, sendScope, handshakeEndsAt }),
        openSession(event, { username, userId }),
      ]).catch(async (error: unknown) => {
        // The handshake fails: its place goes back at once (else the next full check would find it gone).
        await releasePlace(places(), owner, connectionId).catch(() => undefined);
        throw error;
      });
      metrics.addMetric(METRIC.connections, MetricUnit.Count, 1);
      logger.info('connected', { username });
      return { statusCode: 200 };
    } catch (error) {
      const refused = describeError(error);
      if (refused.fault === 'client') logger.info('connection refused', { reason: refused.message });
      else logger.error('connect failed', error as Error);
      return { statusCode: refused.status, body: refused.publicMessage };
    }
  },
);
