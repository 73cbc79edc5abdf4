import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { roomFrameOf } from '#messages/changeFrames';
import { toMessage } from '#messages/dynamoMessages';
import { isGapMarker } from '#messages/gaps';
import { realPauses, retryingThrottles, type ThrottlePauses } from './dynamoThrottles';
import type { CursorItem, CursorSave, CursorStore, RoomCursor, StoredEvent } from './readAhead';

/**
 * The room's fan-out cursor in the Limits table (Deliver may read and the fan-out machine may write only keys under
 * this prefix): `high`, `skip` (its entries as JSON, so the machine writes it as one string), `version`, `ttl`.
 */
const cursorKey = (roomId: string) => `fanout-cursor#${roomId}`;

/**
 * The fan-out cursor of read-ahead (deliver/readAhead.ts) in DynamoDB: one item per room in the Limits table, read
 * and saved once per execution of the room; and the room's stored events after a seq, read from Messages.
 */
export class DynamoCursorStore implements CursorStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { limits: string; messages: string },
    /** A cursor outlives its room's last execution by the messages' retention: it is gone only with them. */
    private readonly ttlSeconds: number,
    /** The pauses between reads DynamoDB throttled (a test's own clock). */
    private readonly pauses: ThrottlePauses = realPauses,
  ) {}

  /**
   * The room's cursor, read again while DynamoDB throttles it (dynamoThrottles.ts): without it Prepare cannot tell
   * which of its batch's seqs an earlier execution posted ahead, and would post them to every member again.
   */
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
    return { high: Number(Item.high ?? 0), skip: skipOf(Item.skip), version: Number(Item.version ?? 0) };
  }

  async storedAfter(roomId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
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
    return (Items ?? []).map((item) =>
      isGapMarker(item)
        ? { seq: Number(item.seq) }
        : { seq: Number(item.seq), payload: JSON.stringify(roomFrameOf(toMessage(item))) },
    );
  }

  itemOf(next: CursorSave, nowSeconds: number): CursorItem {
    return {
      key: cursorKey(next.roomId),
      high: String(next.high),
      skip: JSON.stringify(next.skip),
      read: String(next.version),
      next: String(next.version + 1),
      ttl: String(nowSeconds + this.ttlSeconds),
    };
  }
}

function skipOf(stored: unknown): Record<string, number> {
  try {
    const skip = JSON.parse(String(stored ?? '{}')) as unknown;
    return skip && typeof skip === 'object' ? (skip as Record<string, number>) : {};
  } catch {
    return {};
  }
}
