import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { roomKeyLevel } from '#core/aws/roomMembers';
import type { Connection } from '#core/ports';
import { batchGetAll } from '#platform/aws/batchGet';
import type { ReadPositions } from './ports';

/**
 * Read positions in DynamoDB: `lastReadSeq` on the member's item of the Memberships table (`memberKey`, `roomId`),
 * the room's head from its item's `seq` (Rooms table), and the connections `seenby` names (Connections table).
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** BatchGetItem takes at most 100 keys per request. */
const BATCH = 100;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

export class DynamoReadPositions implements ReadPositions {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { memberships: string; rooms: string; connections: string },
  ) {}

  /**
   * The room's head: the seq of its latest event. It is the `seq` counter of the room's item (one small read: only
   * that attribute is returned, though the read is charged for the whole item), strongly consistent so a member may
   * mark read a message the fan-out delivered a moment ago; with the room's key level (core/aws/roomMembers.ts) in
   * the same read.
   */
  async head(roomId: string): Promise<{ seq: number; keyLevel: number } | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.rooms,
        Key: { roomId },
        ConsistentRead: true,
        ProjectionExpression: 'roomId, seq, keyLevel',
      }),
    );
    return Item === undefined
      ? undefined
      : { seq: Number(Item.seq ?? 0), keyLevel: roomKeyLevel(roomId, Item.keyLevel) };
  }

  async markRead(
    memberKey: string,
    roomId: string,
    read: { seq: number; head: number },
    at: string,
    ttl?: number,
  ): Promise<{ lastReadSeq: number; moved: boolean }> {
    const { seq, head } = read;
    try {
      // Only forward: two devices reading at once, or a late retry, never move a position back. A stored position
      // past the head is not one (markread once took any seq): it is replaced, else it would hide every message.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tables.memberships,
          Key: { memberKey, roomId },
          UpdateExpression: `SET lastReadSeq = :seq, #at = :at${ttl === undefined ? '' : ', #ttl = :ttl'}`,
          ConditionExpression:
            'attribute_not_exists(lastReadSeq) OR lastReadSeq < :seq OR lastReadSeq > :head',
          ExpressionAttributeNames: { '#at': 'at', ...(ttl !== undefined && { '#ttl': 'ttl' }) },
          ExpressionAttributeValues: {
            ':seq': seq,
            ':head': head,
            ':at': at,
            ...(ttl !== undefined && { ':ttl': ttl }),
          },
        }),
      );
      return { lastReadSeq: seq, moved: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Already at or past `seq`: say where it is (this read happens only on a refused move).
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tables.memberships, Key: { memberKey, roomId } }),
      );
      return { lastReadSeq: Math.max(seq, Number(Item?.lastReadSeq ?? 0)), moved: false };
    }
  }

  async positions(memberKeys: string[], roomId: string): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const keys of chunks(memberKeys)) {
      const items = await batchGetAll(this.db, {
        TableName: this.tables.memberships,
        Keys: keys.map((memberKey) => ({ memberKey, roomId })),
      });
      for (const item of items) found.set(String(item.memberKey), Number(item.lastReadSeq ?? 0));
    }
    return found;
  }

  async connections(connectionIds: string[]): Promise<Connection[]> {
    const found: Connection[] = [];
    for (const keys of chunks([...new Set(connectionIds)]))
      found.push(
        ...((await batchGetAll(this.db, {
          TableName: this.tables.connections,
          Keys: keys.map((connectionId) => ({ connectionId })),
        })) as unknown as Connection[]),
      );
    return found;
  }
}
