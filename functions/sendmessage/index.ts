import { systemClock } from '../shared/clock';
import { config } from '../shared/config';
import { onFirstCall } from '../shared/onFirstCall';
import { logger, METRIC, MetricUnit, metrics, tracer } from '../shared/powertools';
import { parseClientMsgId, parseMessageText, requireString } from '../shared/protocol';
import { sendMessage } from '../shared/sending';
import { withSessionCount } from '../shared/sessionHooks';
import { routeHandler } from '../shared/websocket';
import { connectionStore, messageStore, roomStore, sendLog } from '../shared/wiring/dynamodb';
import { eventPublisher } from '../shared/wiring/eventbridge';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  sends: sendLog(),
  events: eventPublisher(),
  now: systemClock,
  messageRetentionDays: config.messageRetentionDays(),
  sendRate: config.sendRate(),
}));

/** sendmessage: validate, store under the room's next seq, publish to the bus, and ack the sender. */
export const handler = routeHandler('sendmessage', async ({ connectionId, body, signal, deadline }) => {
  const text = parseMessageText(requireString(body, 'message'));
  const clientMsgId = parseClientMsgId(body.clientMsgId);
  logger.debug('sending', { characters: text.length, clientMsgId });
  // The session's message count is written beside PutEvents, never before it (sessions.ts).
  const { ack } = await sendMessage(withSessionCount(deps(), connectionId), {
    connectionId,
    text,
    clientMsgId,
    signal,
    deadline,
  });
  // The messageId is the correlation id from here through the bus, the state machine and every Deliver log line.
  logger.setCorrelationId(ack.messageId);
  logger.info('message sent', { roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId });
  tracer.putAnnotation('roomId', ack.roomId);
  tracer.putAnnotation('messageId', ack.messageId);
  metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, 1);
  return ack;
});
