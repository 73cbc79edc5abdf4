import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ChatMessage } from '../../../protocol';
import { batchGetAll } from '../../platform/aws/batchGet';
import type { FanoutTables } from './dynamoWrites';

/**
 * What the fan-out reads of a room: its messages in a seq range (a cycle's frames), a page of its members (a claim's
 * first page, in the shape of the state machine's Query), and which connections are still in it (a repost's).
 */

/** A page of a room's members: ids, and the Query's start key for the page after (absent: none follows). */
export interface MembersPage {
  ids: string[];
  next?: Record<string, AttributeValue>;
}

export class DynamoRoomReads {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: FanoutTables,
  ) {}

  /** The room's messages after `afterSeq` up to `uptoSeq`, in seq order. */
  async messages(roomId: string, afterSeq: number, uptoSeq: number): Promise<ChatMessage[]> {
    const found: ChatMessage[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tables.messages,
          KeyConditionExpression: 'roomId = :room AND seq BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':room': roomId, ':from': afterSeq + 1, ':to': uptoSeq },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const { ttl: _ttl, ...message } = item;
        found.push(message as ChatMessage);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  /**
   * Up to `limit` of the room's members, read in one Query of the room index (as the state machine reads its pages):
   * their connection ids and, when more may follow, where the next page starts, in DynamoDB JSON for the state
   * machine's Query. A page of exactly `limit` items always carries it, whether or not more follow.
   */
  async membersPage(roomId: string, limit: number): Promise<MembersPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tables.connections,
        IndexName: this.tables.roomIndex,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ProjectionExpression: 'connectionId',
        Limit: limit,
      }),
    );
    const ids = (page.Items ?? []).map((item) => item.connectionId as string);
    return page.LastEvaluatedKey ? { ids, next: marshall(page.LastEvaluatedKey) } : { ids };
  }

  /** Of these connections, the ones still in the room: a member who left or moved gets nothing more. */
  async stillIn(roomId: string, connectionIds: readonly string[]): Promise<Set<string>> {
    const inRoom = new Set<string>();
    for (let i = 0; i < connectionIds.length; i += 100) {
      const items = await batchGetAll(this.db, {
        TableName: this.tables.connections,
        Keys: connectionIds.slice(i, i + 100).map((connectionId) => ({ connectionId })),
        ProjectionExpression: 'connectionId, roomId',
      });
      for (const item of items) if (item.roomId === roomId) inRoom.add(item.connectionId as string);
    }
    return inRoom;
  }
}
