import { markBroadcast } from '#core/identity/sessionHooks';
import { lobbyClosed } from '#core/lobby';
import { parseBroadcastText, parseRoomId, requireString } from '#core/protocol';
import { parseJsonBody, restHandler } from '#core/rest';
import { roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { tracer } from '#platform/tracing';
import { broadcast } from './announcing';

const deps = onFirstCall(() => ({
  rooms: roomStore(),
  events: eventPublisher(),
  now: systemClock,
  markSent: markBroadcast,
}));

/**
 * POST /broadcast (IAM) and POST /admin/broadcast (an admin's sign-in token) {"message", "roomId"?}: validate,
 * publish one Broadcast event, answer 202 with its messageId. Who may call is decided before this runs (IAM or the
 * broadcast authorizer); the admin's name, when signed in, goes to the log.
 */
export const handler = restHandler('broadcast', async (event) => {
  const body = parseJsonBody(event);
  const text = parseBroadcastText(requireString(body, 'message'));
  const roomId = body.roomId === undefined || body.roomId === null ? undefined : parseRoomId(body.roomId);
  const noLobby = lobbyClosed(settings().LobbyPolicy);
  const { messageId } = await broadcast(deps(), { text, roomId, noLobby });
  logger.setCorrelationId(messageId);
  const by =
    event.requestContext?.authorizer?.username ?? event.requestContext?.identity?.userArn ?? undefined;
  logger.info('broadcast queued', { messageId, roomId: roomId ?? '(everyone)', ...(by && { by }) });
  tracer.putAnnotation('messageId', messageId);
  if (roomId) tracer.putAnnotation('roomId', roomId);
  return { statusCode: 202, body: { messageId } };
});
