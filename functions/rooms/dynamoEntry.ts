import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { getSubscription, subscriptionItem } from '#core/aws/subscriptions';
import { LIMITS, LOBBY } from '#core/protocol';
import type { RoomEntry } from './ports';

/**
 * A join's move into a room as one DynamoDB transaction: a ConditionCheck that the room still has the invite key
 * the join was admitted by and has not ended, the connection's move, conditional on the room it is leaving (and, for
 * a room it does not follow yet, on its `subscriptionCount` being under LIMITS.subscriptionsMax, which it raises),
 * and its subscriptions following it (the new room's put; the lobby's deleted when it leaves the lobby, the rooms it
 * followed before kept), so the room index never shows a join that did not commit.
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
    // A room followed already (shown or not) is counted already; the put of a new one is conditional on its absence,
    // so two joins of one room at once count it once (the other conflicts and tries again).
    const fresh =
      from !== roomId && !(await getSubscription(this.db, this.tables.subscriptions, connectionId, roomId));
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            this.roomCheck(roomId, inviteKey, nowSeconds),
            {
              Update: {
                TableName: this.tables.connections,
                Key: { connectionId },
                UpdateExpression: `SET roomId = :room, lastActiveAt = :at, username = :name${
                  fresh ? ' ADD subscriptionCount :one' : ''
                }`,
                ConditionExpression: fresh
                  ? 'roomId = :from AND (attribute_not_exists(subscriptionCount) OR subscriptionCount < :max)'
                  : 'roomId = :from',
                ExpressionAttributeValues: {
                  ':room': roomId,
                  ':at': at,
                  ':name': username,
                  ':from': from,
                  ...(fresh && { ':one': 1, ':max': LIMITS.subscriptionsMax }),
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
                ...(fresh && { ConditionExpression: 'attribute_not_exists(roomId)' }),
              },
            },
            // Joining a room it follows rewrites its subscription (the name it shows); only the lobby is left.
            ...(from === roomId || from !== LOBBY
              ? []
              : [{ Delete: { TableName: this.tables.subscriptions, Key: { connectionId, roomId: from } } }]),
          ],
        }),
      );
      return 'entered';
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const [room, connection, subscription] = reasons;
      if (reasons.some((reason) => reason?.Code === 'TransactionConflict')) return 'conflict';
      if (room?.Code === 'ConditionalCheckFailed') return 'keyChanged';
      if (connection?.Code === 'ConditionalCheckFailed') {
        if (!fresh) return 'connectionMoved';
        // Either it moved, or it follows as many rooms as it may: the item tells which.
        const { Item } = await this.db.send(
          new GetCommand({ TableName: this.tables.connections, Key: { connectionId }, ConsistentRead: true }),
        );
        return Item?.roomId === from && Number(Item?.subscriptionCount ?? 0) >= LIMITS.subscriptionsMax
          ? 'tooManyRooms'
          : 'connectionMoved';
      }
      // Another join put the subscription first: try again, now as a room followed.
      if (subscription?.Code === 'ConditionalCheckFailed') return 'conflict';
      throw error;
    }
  }

  /**
   * A subscription without a move (`subscribe`): the room's check and the subscription's put if absent, one
   * transaction, so the index never shows a follower a key rotation or a removal that committed first shut out.
   */
  async follow(entry: Parameters<RoomEntry['follow']>[0]): ReturnType<RoomEntry['follow']> {
    const { connectionId, roomId, username, userId, connectedAt, inviteKey, at, nowSeconds } = entry;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            this.roomCheck(roomId, inviteKey, nowSeconds),
            {
              Put: {
                TableName: this.tables.subscriptions,
                Item: subscriptionItem({
                  connectionId,
                  roomId,
                  username,
                  userId,
                  connectedAt,
                  subscribedAt: at,
                }),
                ConditionExpression: 'attribute_not_exists(roomId)',
              },
            },
          ],
        }),
      );
      return 'followed';
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const [room, subscription] = reasons;
      if (reasons.some((reason) => reason?.Code === 'TransactionConflict')) return 'conflict';
      if (room?.Code === 'ConditionalCheckFailed') return 'keyChanged';
      if (subscription?.Code === 'ConditionalCheckFailed') return 'followedAlready';
      throw error;
    }
  }

  /** The room still has the key the entry was admitted by (none: it has none) and has not ended by `nowSeconds`. */
  private roomCheck(roomId: string, inviteKey: string | undefined, nowSeconds: number) {
    return {
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
    };
  }
}
