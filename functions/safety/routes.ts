import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { auditModeration } from '#core/identity/sessionHooks';
import { servedFrom } from '#core/limits/guard';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore, quotaStore, roomStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { moderationRecords } from './auditWiring';
import { DynamoBlockStore } from './dynamoBlocks';
import { modLog, parseLogPage } from './modlog';
import {
  block,
  blockList,
  type MessageLookup,
  parseBlockId,
  parseOutcome,
  parsePage,
  parseReason,
  parseReportId,
  parseSeq,
  type ReportedMessage,
  report,
  reports,
  resolveReport,
  type SafetyDeps,
  unblock,
} from './safety';
import { dmBlocks } from './wiring';

/** A room's message by seq, as block and report read it (one strongly consistent GetItem). */
const messageLookup = (): MessageLookup => ({
  async message(roomId: string, seq: number): Promise<ReportedMessage | undefined> {
    const { Item } = await documentClient().send(
      new GetCommand({ TableName: config.messagesTable(), Key: { roomId, seq }, ConsistentRead: true }),
    );
    if (!Item || Item.change !== undefined || Item.gap !== undefined) return undefined;
    if (typeof Item.ttl === 'number' && Item.ttl <= Math.floor(Date.now() / 1000)) return undefined;
    return {
      username: String(Item.username),
      text: String(Item.text ?? ''),
      sentAt: String(Item.sentAt),
      ...(typeof Item.authorKey === 'string' && { authorKey: Item.authorKey }),
      ...(typeof Item.authorId === 'string' && { authorId: Item.authorId }),
      ...(Item.deleted !== undefined && { deleted: true }),
    };
  },
});

/** Reports are counted per hour (ReportRateLimit). */
const REPORT_WINDOW_SECONDS = 3600;

/** What the safety routes use, built on their function's first call: here, so no other function bundles it. */
const safetyDeps = onFirstCall((): SafetyDeps => {
  const records = moderationRecords();
  const devices = new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex());
  return {
    connections: connectionStore(),
    rooms: roomStore(),
    notifier: notifier(),
    now: systemClock,
    // Block lists: the Memberships table's `blocks#<memberKey>` partitions (dynamoBlocks.ts).
    blocks: new DynamoBlockStore(documentClient(), requireEnv('MEMBERSHIPS_TABLE')),
    dmBlocks: dmBlocks(),
    messages: messageLookup(),
    reports: records,
    audit: records,
    reportQuota: {
      store: quotaStore(),
      // A runtime setting: read on every report.
      get rate() {
        return { limit: settings().ReportRateLimit, windowSeconds: REPORT_WINDOW_SECONDS };
      },
      now: systemClock,
    },
    // A user's devices, as many as one person may hold at the default (ConnectionsPerSource): a notice is advisory.
    devicesOf: (userId: string) => devices.connectionsOf(userId, 50),
    // A resolution is a moderator's action: a row of the room's moderation log too.
    roomLog: auditModeration,
  };
});

/**
 * The safety routes (functions/safety/safety.ts). block, blocklist, report, reports and resolvereport act in a room
 * the caller follows (`roomId`, absent: the one it shows: scope `room`, core/websocket.ts); unblock in none.
 */

export const blockRoute = routeHandler('block', 'room', (frame) =>
  block(servedFrom(safetyDeps(), frame), frame.connectionId, parseSeq(frame.body.seq)),
);

export const unblockRoute = routeHandler('unblock', 'connection', (frame) =>
  unblock(safetyDeps(), frame.connectionId, parseBlockId(frame.body.blockId)),
);

export const blocklistRoute = routeHandler('blocklist', 'room', (frame) =>
  blockList(servedFrom(safetyDeps(), frame), frame.connectionId),
);

export const reportRoute = routeHandler('report', 'room', (frame) => {
  const seq = parseSeq(frame.body.seq);
  const reason = parseReason(frame.body.reason);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  // Per person: the signed-in user, else the source address (quotas.ts limitOwner), as sends are counted.
  const owner = limitOwner(frame.admitted?.userId, identity?.sourceIp);
  return report(servedFrom(safetyDeps(), frame), frame.connectionId, { seq, reason, owner });
});

export const reportsRoute = routeHandler('reports', 'room', (frame) =>
  reports(
    servedFrom(safetyDeps(), frame),
    frame.connectionId,
    parsePage(frame.body.limit, frame.body.before),
  ),
);

export const resolveReportRoute = routeHandler('resolvereport', 'room', (frame) => {
  const reportId = parseReportId(frame.body.reportId);
  const outcome = parseOutcome(frame.body.outcome);
  return resolveReport(servedFrom(safetyDeps(), frame), frame.connectionId, { reportId, outcome });
});

export const modLogRoute = routeHandler('modlog', 'room', (frame) => {
  const deps = servedFrom(safetyDeps(), frame);
  return modLog(
    { ...deps, log: moderationRecords() },
    frame.connectionId,
    parseLogPage(frame.body.limit, frame.body.before),
  );
});
