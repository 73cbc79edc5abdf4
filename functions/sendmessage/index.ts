import { withSessionCount } from '../domain/identity/sessionHooks';
import { servedFrom } from '../domain/limits/guard';
import { sendMessage } from '../domain/messaging/sending';
import { admitLobbyPost } from '../domain/rooms/lobby';
import { systemClock } from '../platform/clock';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics, tracer } from '../platform/powertools';
import { parseClientMsgId, parseMessageText, requireString } from '../platform/protocol';
import { routeHandler } from '../platform/websocket';
import { connectionStore, guardStore, roomStore, sendStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  sends: sendStore(),
  events: eventPublisher(),
  now: systemClock,
  messageRetentionDays: config.messageRetentionDays(),
  roomIdleDays: config.roomIdleDays(),
  sendRate: config.sendRate(),
}));
const lobby = onFirstCall(() => ({
  policy: config.lobbyPolicy(),
  postRate: config.lobbyPostRate(),
  store: guardStore(),
  now: systemClock,
}));

/**
 * sendmessage: validate, store under the room's next seq, publish to the bus, and ack the sender. The connection is
 * the one the frame count returned (routeHandler), so counting the frame adds no round trip to the send.
 */
export const handler = routeHandler('sendmessage', async (frame) => {
  const { connectionId, body, signal, event, deadline } = frame;
  // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
  const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
  const text = parseMessageText(requireString(body, 'message'));
  const clientMsgId = parseClientMsgId(body.clientMsgId);
  logger.debug('sending', { characters: text.length, clientMsgId });
  // The session's message count is written beside PutEvents, never before it (sessions.ts).
  const { ack } = await sendMessage(servedFrom(withSessionCount(deps(), connectionId), frame), {
    connectionId,
    text,
    clientMsgId,
    signal,
    deadline,
    admitLobbyPost: () => admitLobbyPost(lobby(), identity?.sourceIp),
  });
  // The messageId is the correlation id from here through the bus, the state machine and every Deliver log line.
  logger.setCorrelationId(ack.messageId);
  logger.info('message sent', { roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId });
  tracer.putAnnotation('roomId', ack.roomId);
  tracer.putAnnotation('messageId', ack.messageId);
  metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, 1);
  return ack;
});
