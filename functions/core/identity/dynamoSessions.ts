import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ModerationRecord, SessionClose, SessionOpen, SessionStore } from './sessions';

/** The key prefix of moderation audit rows in the Sessions table (the rooms function's role may put only these). */
const MODERATION_PREFIX = '#moderation#';
/** The UsernameIndex key of a room's moderation log: its rows, by time (`connectedAt`). */
export const moderationLogKey = (roomId: string): string => `${MODERATION_PREFIX}${roomId}`;
/** The table key of one row of the room's log: its time and a random id (two rows of one millisecond differ). */
export const moderationRowId = (roomId: string, at: string, id: string): string =>
  `${MODERATION_PREFIX}${roomId}#${at}#${id}`;

/** API Gateway closes a connection after 2 h: an open session's item lives that long plus the retention. */
const MAX_CONNECTION_SECONDS = 2 * 3600 + 15 * 60;
const BROADCAST_MARKER = (roomId: string | undefined) => `#broadcast#${roomId ?? '*'}`;

/** Sessions in the Sessions table, kept `retentionSeconds` (SessionRetentionDays) after they close (TTL). */
export class DynamoSessionStore implements SessionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Read on every write: SessionRetentionDays is a runtime setting (platform/settings.ts). */
    private readonly retentionSeconds: () => number,
  ) {}

  async open(session: SessionOpen): Promise<void> {
    const start = Math.floor(Date.parse(session.connectedAt) / 1000);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...session, messagesSent: 0, ttl: start + MAX_CONNECTION_SECONDS + this.retentionSeconds() },
      }),
    );
  }

  async close(session: SessionClose): Promise<void> {
    const end = Math.floor(Date.parse(session.disconnectedAt) / 1000);
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { connectionId: session.connectionId },
        UpdateExpression: 'SET disconnectedAt = :at, closeCode = :code, closeReason = :reason, #ttl = :ttl',
        ConditionExpression: 'attribute_exists(connectionId)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':at': session.disconnectedAt,
          ':code': session.closeCode ?? null,
          ':reason': session.closeReason ?? null,
          ':ttl': end + this.retentionSeconds(),
        },
      }),
    );
  }

  async messageSent(connectionId: string, at: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { connectionId },
        UpdateExpression: 'ADD messagesSent :one SET lastMessageAt = :at',
        ConditionExpression: 'attribute_exists(connectionId)',
        ExpressionAttributeValues: { ':one': 1, ':at': at },
      }),
    );
  }

  /**
   * One moderation action on record (an audit row): keyed `#moderation#<roomId>#<at>#<id>`, with `username`
   * `#moderation#<roomId>` and `connectedAt` its time, so UsernameIndex lists a room's actions in order (a `#` is in
   * no member's name). Kept SessionRetentionDays.
   */
  async moderation(row: ModerationRecord): Promise<void> {
    const at = Math.floor(Date.parse(row.at) / 1000);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...row,
          connectionId: moderationRowId(row.roomId, row.at, randomUUID()),
          username: moderationLogKey(row.roomId),
          connectedAt: row.at,
          ttl: at + this.retentionSeconds(),
        },
      }),
    );
  }

  async broadcastSent(roomId: string | undefined, at: string): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { connectionId: BROADCAST_MARKER(roomId), at } }),
    );
  }

  async broadcastSeen(connectionId: string, roomId: string): Promise<void> {
    const markers = await Promise.all(
      [BROADCAST_MARKER(undefined), BROADCAST_MARKER(roomId)].map((key) =>
        this.db.send(new GetCommand({ TableName: this.table, Key: { connectionId: key } })),
      ),
    );
    const latest = markers
      .map((m) => m.Item?.at as string | undefined)
      .filter((at) => at !== undefined)
      .sort()
      .at(-1);
    if (latest === undefined) return;
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'SET lastBroadcastAt = :at',
          // Only a broadcast sent while the session was open counts.
          ConditionExpression: 'attribute_exists(connectionId) AND connectedAt <= :at',
          ExpressionAttributeValues: { ':at': latest },
        }),
      )
      .catch((error: { name?: string }) => {
        if (error.name !== 'ConditionalCheckFailedException') throw error;
      });
  }
}
