import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { connectionStore, quotaStore, roomStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config, requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { DynamoModerationRecords } from './audit';
import { DynamoBlockStore, DynamoDmBlocks } from './dynamoBlocks';
import type { MessageLookup, ReportedMessage, SafetyDeps } from './safety';

/** The safety feature's adapters, each given the table names template.yaml sets for it. */

/** Direct-message blocks (the Rooms table's `<dmRoomId>#blocks` items): the safety, messages and people functions. */
export const dmBlocks = () => new DynamoDmBlocks(documentClient(), config.roomsTable());

/** The moderation log and reports, in the Sessions table (audit.ts). */
export const moderationRecords = () =>
  new DynamoModerationRecords(
    documentClient(),
    requireEnv('SESSIONS_TABLE'),
    requireEnv('SESSIONS_BY_NAME_INDEX'),
    () => settings().SessionRetentionDays * 86400,
  );

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

export const safetyDeps = onFirstCall((): SafetyDeps => {
  const records = moderationRecords();
  const devices = new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex());
  return {
    connections: connectionStore(),
    rooms: roomStore(),
    notifier: notifier(),
    now: systemClock,
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
    // A user's devices, at most as many connections as one person may hold (ConnectionsPerSource's ceiling).
    devicesOf: (userId: string) => devices.connectionsOf(userId, 50),
  };
});
