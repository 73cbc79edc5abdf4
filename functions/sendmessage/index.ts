import { requireString, sendMessage } from '../shared/chat';
import { logger, METRIC, MetricUnit, metrics, tracer } from '../shared/powertools';
import { parseClientMsgId, parseMessageText } from '../shared/protocol';
import { withSessionCount } from '../shared/sessionHooks';
import { routeHandler } from '../shared/websocket';

/** sendmessage: validate, store under the room's next seq, publish to the bus, and ack the sender. */
export const handler = routeHandler('sendmessage', async (deps, { connectionId, body }) => {
  const text = parseMessageText(requireString(body, 'message'));
  const clientMsgId = parseClientMsgId(body.clientMsgId);
  const { ack } = await sendMessage(withSessionCount(deps, connectionId), {
    connectionId,
    text,
    clientMsgId,
  });
  // The messageId is the correlation id from here through the bus, the state machine and every Deliver log line.
  logger.setCorrelationId(ack.messageId);
  logger.info('message sent', { roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId });
  tracer.putAnnotation('roomId', ack.roomId);
  tracer.putAnnotation('messageId', ack.messageId);
  metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, 1);
  return ack;
});
