import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { subscriptionItem } from '../../platform/aws/subscriptions';
import type { RoomEntry } from '../ports';

/**
 * A join's move into a room as one DynamoDB transaction: a ConditionCheck that the room still has the invite key
 * the join was admitted by and has not ended, the connection's move, conditional on the room it is leaving, and its
 * subscriptions following it (the new room's put, the old room's deleted), so the room index never shows a join
 * that did not commit.
 * A key rotation (or a removal, which rotates the key) that commits first makes every join admitted with the old key
 * fail here, however long ago it was admitted, so a removed member cannot slip in between the owner's check of the
 * room's members and the new key going out.
 */
export class DynamoRoomEntry implements RoomEntry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { rooms: string; connections: string; subscriptions: string },
  ) {}

  async enter(entry: Parameters<RoomEntry['enter']>[0]): ReturnType<RoomEntry['enter']> {
    const { connectionId, from, roomId, username, userId, connectedAt, inviteKey, at, nowSeconds } = entry;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.tables.rooms,
                Key: { roomId },
                ConditionExpression: `attribute_exists(roomId) AND ${inviteKey === undefined ? 'attribute_not_exists(inviteKey)' : 'inviteKey = :key'} AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)`,
                ExpressionAttributeNames: { '#ttl': 'ttl' },
                ExpressionAttributeValues: {
                  ':now': nowSeconds,
                  ...(inviteKey !== undefined && { ':key': inviteKey }),
                },
              },
            },
            {
              Update: {
                TableName: this.tables.connections,
                Key: { connectionId },
                // A resync note owed in the room left (dynamoResyncNotes.ts) goes with the move.
                UpdateExpression:
                  'SET roomId = :room, lastActiveAt = :at, username = :name REMOVE resyncRoom, resyncAfter',
                ConditionExpression: 'roomId = :from',
                ExpressionAttributeValues: {
                  ':room': roomId,
                  ':at': at,
                  ':name': username,
                  ':from': from,
                },
              },
            },
            {
              Put: {
                TableName: this.tables.subscriptions,
                Item: subscriptionItem({
                  connectionId,
                  roomId,
                  username,
                  userId,
                  connectedAt: connectedAt ?? at,
                  subscribedAt: at,
                }),
              },
            },
            // Joining the room it is in rewrites its subscription (the name it shows) and deletes nothing.
            ...(from === roomId
              ? []
              : [{ Delete: { TableName: this.tables.subscriptions, Key: { connectionId, roomId: from } } }]),
          ],
        }),
      );
      return 'entered';
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const [room, connection] = reasons;
      if (reasons.some((reason) => reason?.Code === 'TransactionConflict')) return 'conflict';
      if (room?.Code === 'ConditionalCheckFailed') return 'keyChanged';
      if (connection?.Code === 'ConditionalCheckFailed') return 'connectionMoved';
      throw error;
    }
  }
}
