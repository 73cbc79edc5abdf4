import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { roomKeyLevel } from '#core/aws/roomMembers';
import type { Connection } from '#core/ports';
import { batchGetMany } from '#platform/aws/batchGet';
import { applied } from '#platform/aws/conditions';
import type { NoticeChoice } from '#protocol';
import type { NoticeStore } from './notices';
import type { ReadPositions } from './ports';

/**
 * Read positions in DynamoDB: `lastReadSeq` on the member's item of the Memberships table (`memberKey`, `roomId`),
 * the room's head from its item's `seq` (Rooms table), and the connections `seenby` names (Connections table).
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

export class DynamoReadPositions implements ReadPositions, NoticeStore {
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

  /**
   * The membership's `notices` (removed for the default), only on a membership that exists: the condition keeps a
   * choice from making a membership of a room the member is not in.
   */
  async setNotices(memberKey: string, roomId: string, notices: NoticeChoice): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.memberships,
          Key: { memberKey, roomId },
          UpdateExpression: notices === 'all' ? 'REMOVE notices' : 'SET notices = :notices',
          ConditionExpression: 'attribute_exists(roomId)',
          ...(notices !== 'all' && { ExpressionAttributeValues: { ':notices': notices } }),
        }),
      ),
    );
  }

  async positions(memberKeys: string[], roomId: string): Promise<Map<string, number>> {
    const items = await batchGetMany(this.db, {
      TableName: this.tables.memberships,
      Keys: memberKeys.map((memberKey) => ({ memberKey, roomId })),
    });
    return new Map(items.map((item) => [String(item.memberKey), Number(item.lastReadSeq ?? 0)]));
  }

  async connections(connectionIds: string[]): Promise<Connection[]> {
    return (await batchGetMany(this.db, {
      TableName: this.tables.connections,
      Keys: [...new Set(connectionIds)].map((connectionId) => ({ connectionId })),
    })) as unknown as Connection[];
  }
}
