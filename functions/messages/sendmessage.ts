import { checkAttachments, parseAttachments } from '#attachments/attachments';
import { S3AttachmentHeads } from '#attachments/s3Head';
import { DynamoRoomMemberCheck } from '#core/aws/roomMemberCheck';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { BadRequest } from '#core/errors';
import { withSessionCount } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { limitSettings } from '#core/limits/limitSettings';
import { admitLobbyPost } from '#core/lobby';
import type { Connection } from '#core/ports';
import {
  parseClientMsgId,
  parseMessageText,
  parseReplyTo,
  parseThreadOf,
  requireString,
} from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore, quotaStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { personGate } from '#core/wiring/guard';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { settings } from '#platform/settings';
import { tracer } from '#platform/tracing';
import type { Attachment } from '#protocol';
import { moderationRecords } from '#safety/auditWiring';
import { admitDirectSend, screenText } from '#safety/screening';
import { dmBlocks } from '#safety/wiring';
import { MENTION_SCAN_MEMBERS, notifyMentioned } from './mentions';
import { sendMessage } from './sending';
import { lobbyGate, withSendSettings } from './sendSettings';
import { sendStore, threadStore } from './wiring';

const members = onFirstCall(() => connectionStore());
/** Slow mode's turns, in the Limits table (`slow#<roomId>#<memberKey>`, sending.ts slowModeTurn). */
const slowTurns = onFirstCall(() => quotaStore());
const attachments = onFirstCall(() => new S3AttachmentHeads());
const deps = onFirstCall(() =>
  withSendSettings({
    connections: connectionStore(),
    mentionables: (roomId: string, stop?: AbortSignal) =>
      members().membersUpTo(roomId, MENTION_SCAN_MEMBERS, stop),
    checkAttachments: (roomId: string, stated: Attachment[]) =>
      checkAttachments(attachments(), roomId, stated),
    sends: sendStore(),
    events: eventPublisher(),
    now: systemClock,
    person: personGate(),
    threads: threadStore(),
    admitDirect: (sender: Connection) => admitDirectSend(blocks(), sender),

    slowTurn: (key: string, nowMs: number, intervalMs: number) =>
      slowTurns().takeTurnOrWait(key, nowMs, intervalMs),
  }),
);
const blocks = onFirstCall(dmBlocks);
const audit = onFirstCall(moderationRecords);
const notice = onFirstCall(() => {
  const limits = quotaStore();
  return {
    devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
    members: new DynamoRoomMemberCheck(documentClient(), requireEnv('MEMBERSHIPS_TABLE')),
    notifier: notifier(),
    // One notice per sender, person and room per MentionNoticeSeconds (runtime setting, read on every call).
    turns: {
      take: (roomId: string, sender: string, person: string) => {
        const seconds = limitSettings.mentionNoticeSeconds();
        return seconds <= 0
          ? Promise.resolve(true)
          : limits.takeTurn(`mention#${roomId}#${sender}#${person}`, Date.now(), seconds * 1000);
      },
    },
  };
});
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
  const threadOf = parseThreadOf(body.threadOf);
  if (body.alsoToRoom !== undefined && typeof body.alsoToRoom !== 'boolean')
    throw new BadRequest('"alsoToRoom" must be true or false.');
  if (body.alsoToRoom === true && threadOf === undefined)
    throw new BadRequest(
      '"alsoToRoom" goes with "threadOf": only a reply in a thread is also sent to the room.',
    );
  // The word filter, before anything is stored (FilterWords, FilterMode): refused FILTERED, or stored masked.
  const screened = await screenText(
    text,
    { words: settings().FilterWords, mode: settings().FilterMode },
    () => (frame.admitted ? Promise.resolve(frame.admitted) : connectionStore().get(connectionId)),
    audit,
    systemClock(),
  );
  logger.debug('sending', { characters: text.length, clientMsgId });
  // The session's message count is written beside PutEvents, never before it (sessions.ts).
  const { ack, message, mentioned, sender, thread } = await sendMessage(
    servedFrom(withSessionCount(deps(), connectionId), frame),
    {
      connectionId,
      text: screened,
      clientMsgId,
      replyTo,
      threadOf,
      alsoToRoom: body.alsoToRoom === true,
      attachments: images,
      signal,
      admitLobbyPost: () => admitLobbyPost(lobbyGate(), identity?.sourceIp),
      sourceIp: identity?.sourceIp,
    },
  );
  // The messageId is the correlation id from here through the bus, the state machine and every Deliver log line.
  logger.setCorrelationId(ack.messageId);
  logger.info('message sent', { roomId: ack.roomId, seq: ack.seq, messageId: ack.messageId });
  tracer.putAnnotation('roomId', ack.roomId);
  tracer.putAnnotation('messageId', ack.messageId);
  metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, 1);
  // Signed-in members the message names hear of it on every device; advisory, after the message is stored and sent.
  // A reply in a thread tells its followers (and those it names) in the same notices.
  if (mentioned.length > 0 || (thread && thread.users.length > 0))
    await notifyMentioned(notice(), message, mentioned, sender, thread);
  return ack;
});
