import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { roomFrameOf } from '#messages/changeFrames';
import { toMessage } from '#messages/dynamoMessages';
import { isGapMarker } from '#messages/gaps';
import { realPauses, retryingThrottles, type ThrottlePauses } from './dynamoThrottles';
import type { CursorItem, LogEntry, LogStore, RoomCursor, RoomHead } from './roomLog';

/**
 * The room's fan-out cursor in the Limits table (Deliver may read and the fan-out machine may write only keys under
 * this prefix): `high`, `version`, `ttl`.
 */
const cursorKey = (roomId: string) => `fanout-cursor#${roomId}`;

/**
 * The room's log as the fan-out reads it (deliver/roomLog.ts) in DynamoDB: the cursor, one item per room in the
 * Limits table, read once per cycle and saved by the machine; the room's counter on its item in Rooms; its stored
 * events in Messages. Every read is strongly consistent, and ridden through DynamoDB's throttling
 * (dynamoThrottles.ts): a cursor read wrong would post a room's messages again, a log read wrong would pass them.
 */
export class DynamoCursorStore implements LogStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { limits: string; messages: string; rooms: string },
    /** A cursor outlives its room's last execution by the messages' retention: it is gone only with them. */
    private readonly ttlSeconds: number,
    /** The pauses between reads DynamoDB throttled (a test's own clock). */
    private readonly pauses: ThrottlePauses = realPauses,
  ) {}

  async cursor(roomId: string): Promise<RoomCursor | undefined> {
    const { Item } = await retryingThrottles(
      () =>
        this.db.send(
          new GetCommand({
            TableName: this.tables.limits,
            Key: { limitKey: cursorKey(roomId) },
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    if (!Item) return undefined;
    return { high: Number(Item.high ?? 0), version: Number(Item.version ?? 0) };
  }

  async head(roomId: string): Promise<RoomHead> {
    const { Item } = await retryingThrottles(
      () =>
        this.db.send(
          new GetCommand({
            TableName: this.tables.rooms,
            Key: { roomId },
            ProjectionExpression: 'seq, seqAt',
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    return {
      seq: Number(Item?.seq ?? 0),
      ...(Item?.seqAt !== undefined && { seqAt: Number(Item.seqAt) }),
    };
  }

  async storedAfter(roomId: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    const { Items } = await retryingThrottles(
      () =>
        this.db.send(
          new QueryCommand({
            TableName: this.tables.messages,
            KeyConditionExpression: 'roomId = :room AND seq > :after',
            ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
            Limit: limit,
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    return (Items ?? []).map(entryOf);
  }

  async stored(roomId: string, seqs: number[]): Promise<LogEntry[]> {
    if (seqs.length === 0) return [];
    // At most the ten seqs of one batch's records: one BatchGetItem (its limit is 100 keys).
    const { Responses, UnprocessedKeys } = await retryingThrottles(
      () =>
        this.db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tables.messages]: {
                Keys: seqs.slice(0, 100).map((seq) => ({ roomId, seq })),
                ConsistentRead: true,
              },
            },
          }),
        ),
      this.pauses,
    );
    const unread = UnprocessedKeys?.[this.tables.messages]?.Keys?.length ?? 0;
    // A late seq not read now is not lost: the client fills it from history when it sees the hole.
    if (unread > 0) throw new Error(`${unread} late seqs of room ${roomId} were not read`);
    return (Responses?.[this.tables.messages] ?? []).map(entryOf).sort((a, b) => a.seq - b.seq);
  }

  itemOf(roomId: string, high: number, read: RoomCursor | undefined, nowSeconds: number): CursorItem {
    const version = read?.version ?? 0;
    return {
      key: cursorKey(roomId),
      high: String(high),
      read: String(version),
      next: String(version + 1),
      ttl: String(nowSeconds + this.ttlSeconds),
    };
  }
}

function entryOf(item: Record<string, unknown>): LogEntry {
  return isGapMarker(item)
    ? { seq: Number(item.seq) }
    : { seq: Number(item.seq), payload: JSON.stringify(roomFrameOf(toMessage(item))) };
}
