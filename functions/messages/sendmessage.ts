import { checkAttachments, parseAttachments } from '#attachments/attachments';
import { S3AttachmentHeads } from '#attachments/s3Head';
import { withSessionCount } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { admitLobbyPost } from '#core/lobby';
import type { Connection } from '#core/ports';
import { parseClientMsgId, parseMessageText, parseReplyTo, requireString } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { personGate } from '#core/wiring/guard';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { tracer } from '#platform/tracing';
import type { Attachment } from '#protocol';
import { admitDirectSend } from '#safety/screening';
import { dmBlocks } from '#safety/wiring';
import { sendHooks } from './sendFeatures';
import { sendMessage } from './sending';
import { lobbyGate, withSendSettings } from './sendSettings';
import { sendStore } from './wiring';

/** Slow mode's turns, in the Limits table (`slow#<roomId>#<memberKey>`, sending.ts slowModeTurn). */
const slowTurns = onFirstCall(() => quotaStore());
const attachments = onFirstCall(() => new S3AttachmentHeads());
const deps = onFirstCall(() =>
  withSendSettings({
    connections: connectionStore(),
    checkAttachments: (roomId: string, stated: Attachment[]) =>
      checkAttachments(attachments(), roomId, stated),
    sends: sendStore(),
    events: eventPublisher(),
    now: systemClock,
    person: personGate(),
    admitDirect: (sender: Connection) => admitDirectSend(blocks(), sender),
    slowTurn: (key: string, nowMs: number, intervalMs: number) =>
      slowTurns().takeTurnOrWait(key, nowMs, intervalMs),
    hooks: sendHooks(),
  }),
);
const blocks = onFirstCall(dmBlocks);
/**
 * sendmessage: validate, store under the room's next seq, publish to the bus, and ack the sender. The connection is
 * the one the frame count returned (routeHandler), so counting the frame adds no round trip to the send.
 */
export const handler = routeHandler('sendmessage', 'room', async (frame) => {
  const { connectionId, body, signal, event } = frame;
  // API Gateway sends requestContext.identity.sourceIp with every WebSocket route; @types/aws-lambda omits it.
  const { identity } = event.requestContext as { identity?: { sourceIp?: string } };
  const images = parseAttachments(body.attachments);
  // A message with images may have no text; one without must have some.
  const text =
    images && (body.message === undefined || body.message === '')
      ? ''
      : parseMessageText(requireString(body, 'message'));
  const clientMsgId = parseClientMsgId(body.clientMsgId);
  const replyTo = parseReplyTo(body.replyTo);
  logger.debug('sending', { characters: text.length, clientMsgId });
  // The session's message count is written beside PutEvents, never before it (sessions.ts).
  const { ack, published } = await sendMessage(servedFrom(withSessionCount(deps(), connectionId), frame), {
    connectionId,
    text,
    clientMsgId,
    replyTo,
    body,
    attachments: images,
    signal,
    admitLobbyPost: () => admitLobbyPost(lobbyGate(), identity?.sourceIp),
    sourceIp: identity?.sourceIp,
  });
  // The messageId is the correlation id from here through the bus, the state machine and every Deliver log line.
  logger.setCorrelationId(ack.messageId);
  logger.info('message sent', { roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId });
  tracer.putAnnotation('roomId', ack.roomId);
  tracer.putAnnotation('messageId', ack.messageId);
  metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, 1);
  // The hooks' notices, advisory, after the message is stored and sent (sendHooks.ts `onPublish`).
  await published();
  return ack;
});
