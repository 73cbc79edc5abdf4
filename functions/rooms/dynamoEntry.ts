import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { keyIdOf, NO_KEY, roomGateOf } from '#core/aws/rooms';
import { getSubscription, subscriptionItem } from '#core/aws/subscriptions';
import { LIMITS, LOBBY } from '#core/protocol';
import type { RoomEntry } from './ports';

/**
 * A join's move into a room as one DynamoDB transaction: a ConditionCheck on the connection's gate into the room (the
 * room store's, core/aws/rooms.ts) that no rotation or close has replaced the invite key the join was admitted by,
 * the connection's move, conditional on the room it is leaving (and, for a room it does not follow yet, on its
 * `subscriptionCount` being under LIMITS.subscriptionsMax, which it raises), and its subscriptions following it (the
 * new room's put; the lobby's deleted when it leaves the lobby, the rooms it followed before kept), so the room index
 * never shows a join that did not commit.
 * A key rotation (or a removal, which rotates the key, or a close) that commits first makes every join admitted with
 * the old key fail here, however long ago it was admitted, so a removed member cannot slip in between the owner's
 * check of the room's members and the new key going out. The room's item is not in the transaction: sends write it
 * (the seq), and joins of different connections mostly check different gates.
 */
export class DynamoRoomEntry implements RoomEntry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { rooms: string; connections: string; subscriptions: string },
  ) {}

  async enter(entry: Parameters<RoomEntry['enter']>[0]): ReturnType<RoomEntry['enter']> {
    const { connectionId, from, roomId, username, userId, connectedAt, inviteKey, at, nowSeconds, keyLevel } =
      entry;
    // A room followed already (shown or not) is counted already; the put of a new one is conditional on its absence,
    // so two joins of one room at once count it once (the other conflicts and tries again).
    const fresh =
      from !== roomId && !(await getSubscription(this.db, this.tables.subscriptions, connectionId, roomId));
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            this.gateCheck(roomId, connectionId, inviteKey, nowSeconds),
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
                  keyLevel,
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
   * A subscription without a move (`subscribe`): the gate's check and the subscription's put if absent, one
   * transaction, so the index never shows a follower a key rotation or a removal that committed first shut out.
   */
  async follow(entry: Parameters<RoomEntry['follow']>[0]): ReturnType<RoomEntry['follow']> {
    const { connectionId, roomId, username, userId, connectedAt, inviteKey, at, nowSeconds, keyLevel } =
      entry;
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            this.gateCheck(roomId, connectionId, inviteKey, nowSeconds),
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
                  keyLevel,
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

  /**
   * The connection's gate into the room still lets the key the entry was admitted by through (none: the room had no
   * key): no rotation or close has written another since, or none ever has, or the gate's day has passed (no entry is
   * in flight that long). Whether the room exists and lives was read when the entry was admitted; a room whose TTL
   * passes in the moment between is refused its sends.
   */
  private gateCheck(roomId: string, connectionId: string, inviteKey: string | undefined, nowSeconds: number) {
    return {
      ConditionCheck: {
        TableName: this.tables.rooms,
        Key: { roomId: roomGateOf(roomId, connectionId) },
        ConditionExpression: 'attribute_not_exists(keyId) OR keyId = :keyId OR #ttl < :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':keyId': inviteKey === undefined ? NO_KEY : keyIdOf(inviteKey),
          ':now': nowSeconds,
        },
      },
    };
  }
}
