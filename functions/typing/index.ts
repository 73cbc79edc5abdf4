import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { DynamoRoomStore } from '#core/aws/rooms';
import { BadRequest } from '#core/errors';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { DynamoPostBudget } from '#deliver/dynamoPostBudget';
import { TYPING_BUDGET_CEILING } from '#deliver/postBudget';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config, numberEnv, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { typingFlag } from '#protocol';
import { DynamoTypingStore } from './dynamoTyping';
import { relayTyping } from './relay';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  typing: new DynamoTypingStore(
    documentClient(),
    config.connectionsTable(),
    config.subscriptions(),
    requireEnv('LIMITS_TABLE'),
  ),
  notifier: notifier(),
  now: systemClock,
  settings: {
    intervalMs: numberEnv('TYPING_INTERVAL_SECONDS') * 1000,
    // A runtime setting (platform/settings.ts), read on every call.
    get maxMembers() {
      return settings().TypingMaxMembers;
    },
  },
  budget: typingBudget(),
  rooms: new DynamoRoomStore(documentClient(), config.roomsTable()),
}));

/**
 * The account's posting budget as Deliver keeps it (functions/deliver/dynamoPostBudget.ts), at typing's
 * priority, the lowest: only while the second is under TYPING_BUDGET_CEILING of its budget.
 */
function typingBudget() {
  const store = new DynamoPostBudget(documentClient(), { limits: requireEnv('LIMITS_TABLE') });
  return {
    take: async (posts: number) => {
      try {
        return (
          (await store.reserve(posts, settings().FanoutPostsPerSecond, Date.now(), TYPING_BUDGET_CEILING)) !==
          undefined
        );
      } catch (error) {
        // The budget's item throttled or conflicted past its retries: counted as no room, the heartbeat dropped.
        logger.warn('typing budget not written: the heartbeat is dropped', { error });
        return false;
      }
    },
  };
}

/** Posts to the other members stop this long before the route's own deadline, leaving time to answer. */
const POSTS_END_MS = 2500;

const relay = routeHandler('typing', 'room', async (frame) => {
  const typing = typingFlag(frame.body);
  if (typing === undefined) throw new BadRequest('"typing" must be true or false (or left out for true).');
  const outcome = await relayTyping(
    servedFrom(deps(), frame),
    frame.connectionId,
    typing,
    frame.deadline === undefined ? undefined : frame.deadline - POSTS_END_MS,
  );
  logger.debug('typing', { ...outcome });
  return {};
});

/**
 * The one route of the feature (its entry is `handler`).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [relay];

/**
 * typing: a one-way route (no route response, so API Gateway sends nothing back for it): a relayed or dropped
 * heartbeat costs the typist no message. Only a refusal is worth telling, and it is posted to the connection.
 */
export async function handler(
  event: APIGatewayProxyWebsocketEventV2,
  context?: Context,
): Promise<APIGatewayProxyResultV2> {
  const result = await relay(event, context);
  const body = typeof result === 'object' && typeof result.body === 'string' ? result.body : '';
  if (body.startsWith('{"type":"error"'))
    await deps()
      .notifier.post(event.requestContext.connectionId, body)
      .catch(() => undefined);
  return result;
}
