import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TooManyRooms } from '#core/errors';
import type { BucketKind, Connection, ConnectionStore, Member, SendBucket } from '#core/ports';
import { LIMITS, LOBBY } from '#core/protocol';
import { applied, unlessRefused } from '#platform/aws/conditions';
import { allRoomMembers, roomMemberPages } from './roomMembers';
import {
  connectionTtl,
  deleteSubscription,
  getSubscription,
  HANDSHAKE_MS,
  putSubscription,
  type Subscribed,
  type SubscriptionTables,
  subscribedRooms,
  subscriptionItem,
  unsubscribeAll,
} from './subscriptions';

/**
 * The DynamoDB adapter of ConnectionStore: one item per live connection, and one subscription item per room it
 * follows (subscriptions.ts), through which a room's members are found (the RoomSubscribers index). The connection's
 * `roomId` is its shown room (the room of a frame that names none). Showing another room subscribes it and keeps the
 * rooms followed before, except the lobby, which is followed only while shown; `subscriptionCount` counts the other
 * subscriptions, at most LIMITS.subscriptionsMax. A move writes the new room's subscription before it deletes an old
 * one, so the connection is never in no room's index in between.
 */
export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly subscriptions: SubscriptionTables,
  ) {}

  async put(connection: Connection): Promise<void> {
    const { handshakeEndsAt, ...stored } = connection;
    const now = Date.parse(connection.connectedAt);
    const prunableAfter = new Date(Math.min(handshakeEndsAt ?? Infinity, now + HANDSHAKE_MS)).toISOString();
    await Promise.all([
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...stored,
            // The sparse user index's key: only a signed-in user's devices are found by user (rooms/dmNotice.ts).
            ...(connection.userId?.startsWith('user:') && { signedInUserId: connection.userId }),
            lastActiveAt: connection.connectedAt,
            prunableAfter,
            ttl: connectionTtl(connection.connectedAt),
          },
        }),
      ),
      // Its first room (the lobby): written in its handshake, so it says until when a 410 may be the handshake's.
      putSubscription(
        this.db,
        this.subscriptions.table,
        subscriptionItem({
          connectionId: connection.connectionId,
          roomId: connection.roomId,
          username: connection.username,
          userId: connection.userId,
          connectedAt: connection.connectedAt,
          subscribedAt: connection.connectedAt,
          prunableAfter,
        }),
      ),
    ]);
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { connectionId } }));
    return Item as Connection | undefined;
  }

  /**
   * Deletes the connection and every subscription it has (a pruned one too: the fan-out leaves it for this); the
   * connection as it was, with the rooms it followed (`followed`).
   */
  async remove(connectionId: string): Promise<(Connection & { followed: Subscribed[] }) | undefined> {
    const [{ Attributes }, followed] = await Promise.all([
      this.db.send(
        new DeleteCommand({ TableName: this.table, Key: { connectionId }, ReturnValues: 'ALL_OLD' }),
      ),
      unsubscribeAll(this.db, this.subscriptions.table, connectionId),
    ]);
    return Attributes ? { ...(Attributes as Connection), followed } : undefined;
  }

  subscription(connectionId: string, roomId: string): Promise<Subscribed | undefined> {
    return getSubscription(this.db, this.subscriptions.table, connectionId, roomId);
  }

  /**
   * Stops following a room the connection does not show: its subscription deleted and counted off (once: a delete
   * that found nothing counts nothing). The subscription as it was; undefined when the room was not followed.
   */
  async unsubscribe(connectionId: string, roomId: string): Promise<Subscribed | undefined> {
    const gone = await deleteSubscription(this.db, this.subscriptions.table, connectionId, roomId);
    if (gone && roomId !== LOBBY) await this.countOff(connectionId);
    return gone;
  }

  followed(connectionId: string): Promise<Subscribed[]> {
    return subscribedRooms(this.db, this.subscriptions.table, connectionId);
  }

  /**
   * Counts `count` more rooms at once (`subscribe`): one conditional ADD, all or none, so a frame that would pass the
   * limit follows nothing. TooManyRooms at the limit, false when the connection is gone.
   */
  async countRooms(connectionId: string, count: number): Promise<boolean> {
    const counted = await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'ADD subscriptionCount :n',
          ConditionExpression:
            'attribute_exists(connectionId) AND (attribute_not_exists(subscriptionCount) OR subscriptionCount <= :room)',
          ExpressionAttributeValues: { ':n': count, ':room': LIMITS.subscriptionsMax - count },
        }),
      ),
    );
    if (counted) return true;
    if (await this.get(connectionId)) throw new TooManyRooms(LIMITS.subscriptionsMax);
    return false;
  }

  /** Gives back rooms counted that were not followed after all (nothing when the connection is gone). */
  async uncountRooms(connectionId: string, count: number): Promise<void> {
    if (count <= 0) return;
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'ADD subscriptionCount :minus',
          ConditionExpression: 'attribute_exists(connectionId) AND subscriptionCount >= :n',
          ExpressionAttributeValues: { ':minus': -count, ':n': count },
        }),
      ),
    );
  }

  /** One more subscription counted on the connection: TooManyRooms at the limit, false when the connection is gone. */
  private async countOn(connectionId: string): Promise<boolean> {
    const counted = await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'ADD subscriptionCount :one',
          ConditionExpression:
            'attribute_exists(connectionId) AND (attribute_not_exists(subscriptionCount) OR subscriptionCount < :max)',
          ExpressionAttributeValues: { ':one': 1, ':max': LIMITS.subscriptionsMax },
        }),
      ),
    );
    if (counted) return true;
    if (await this.get(connectionId)) throw new TooManyRooms(LIMITS.subscriptionsMax);
    return false;
  }

  /** One subscription fewer counted on the connection (nothing when the connection is gone). */
  private async countOff(connectionId: string): Promise<void> {
    await this.uncountRooms(connectionId, 1);
  }

  async moveToRoom(
    connectionId: string,
    roomId: string,
    at: string,
    username?: string,
  ): Promise<Connection | undefined> {
    // A room not followed yet is counted before the move (TooManyRooms at the limit); the lobby counts nothing.
    if (
      roomId !== LOBBY &&
      !(await this.subscription(connectionId, roomId)) &&
      !(await this.countOn(connectionId))
    )
      return undefined;
    const before = await this.move(connectionId, {
      // Without a name for the room, the chosen one again (records made before it was kept keep theirs).
      UpdateExpression:
        username === undefined
          ? 'SET roomId = :room, lastActiveAt = :now, username = if_not_exists(chosenName, username)'
          : 'SET roomId = :room, lastActiveAt = :now, username = :name',
      ConditionExpression: 'attribute_exists(connectionId)',
      ExpressionAttributeValues: {
        ':room': roomId,
        ':now': at,
        ...(username !== undefined && { ':name': username }),
      },
    });
    if (before) await this.resubscribe(before, roomId, username ?? before.chosenName ?? before.username, at);
    return before;
  }

  /**
   * Takes `roomId` from the connection: the lobby shown instead when it shows that room, else the room's
   * subscription deleted if it follows it. The connection as it was; undefined when gone or not following the room.
   */
  async moveOutOf(connectionId: string, roomId: string, at: string): Promise<Connection | undefined> {
    const before = await this.move(connectionId, {
      UpdateExpression:
        'SET roomId = :lobby, lastActiveAt = :now, username = if_not_exists(chosenName, username)',
      ConditionExpression: 'roomId = :room',
      ExpressionAttributeValues: {
        ':lobby': LOBBY,
        ':room': roomId,
        ':now': at,
      },
    });
    if (before) {
      await this.resubscribe(before, LOBBY, before.chosenName ?? before.username, at);
      return before;
    }
    // Not shown: a room it follows among others (a removal or a close reaches every follower, not only its shower).
    return (await this.unsubscribe(connectionId, roomId)) ? this.get(connectionId) : undefined;
  }

  /**
   * The subscription side of a move the connection item took: the new room's subscription first, then the old
   * room's deleted, so a fan-out in between finds the connection in at least one of them (never in neither). The
   * old room stays followed unless it is the lobby (followed only while shown) or the move is to the lobby (a
   * `leaveroom` of the shown room).
   */
  private async resubscribe(before: Connection, roomId: string, username: string, at: string): Promise<void> {
    await putSubscription(
      this.db,
      this.subscriptions.table,
      subscriptionItem({
        connectionId: before.connectionId,
        roomId,
        username,
        userId: before.userId,
        connectedAt: before.connectedAt,
        subscribedAt: at,
      }),
    );
    if (before.roomId !== roomId && (before.roomId === LOBBY || roomId === LOBBY)) {
      const gone = await deleteSubscription(
        this.db,
        this.subscriptions.table,
        before.connectionId,
        before.roomId,
      );
      if (gone && before.roomId !== LOBBY) await this.countOff(before.connectionId);
    }
  }

  async saveSendBucket(
    connectionId: string,
    bucket: SendBucket,
    previousAt: number | undefined,
    kind: BucketKind = 'send',
  ): Promise<boolean> {
    const field = kind === 'react' ? 'reactBucket' : 'sendBucket';
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: `SET ${field} = :bucket`,
          ConditionExpression:
            previousAt === undefined
              ? `attribute_exists(connectionId) AND attribute_not_exists(${field})`
              : `attribute_exists(connectionId) AND ${field}.#at = :previousAt`,
          ...(previousAt !== undefined && { ExpressionAttributeNames: { '#at': 'at' } }),
          ExpressionAttributeValues: {
            ':bucket': bucket,
            ...(previousAt !== undefined && { ':previousAt': previousAt }),
          },
        }),
      ),
    );
  }

  async listMembers(
    roomId: string,
    limit: number,
    connectionId?: string,
  ): Promise<{ members: Member[]; count: number; includesConnection: boolean }> {
    const everyone = await allRoomMembers(this.db, { ...this.subscriptions, roomId });
    return {
      members: everyone.slice(0, limit),
      count: everyone.length,
      includesConnection: everyone.some((member) => member.connectionId === connectionId),
    };
  }

  async membersNamed(roomId: string, username: string): Promise<Member[]> {
    return allRoomMembers(this.db, { ...this.subscriptions, roomId }, username);
  }

  /**
   * Up to `limit` of the room's members, reading the index only as far as that (a big room's mentions); once `stop` is
   * aborted, no further page. `keyLevel`: the room's level as the caller reads it anyway, else read here.
   */
  async membersUpTo(
    roomId: string,
    limit: number,
    stop?: AbortSignal,
    keyLevel?: Promise<number>,
  ): Promise<Member[]> {
    const members: Member[] = [];
    for await (const page of roomMemberPages(
      this.db,
      { ...this.subscriptions, roomId },
      () => limit - members.length,
      stop,
      keyLevel,
    )) {
      if (stop?.aborted) break;
      members.push(...page);
      if (members.length >= limit) break;
    }
    return members;
  }

  /** A conditional move of the connection: the item as it was, or undefined when it is gone or the move refused. */
  private async move(
    connectionId: string,
    update: Omit<UpdateCommandInput, 'TableName' | 'Key' | 'ReturnValues'>,
  ): Promise<Connection | undefined> {
    const moved = await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          ...update,
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return moved?.Attributes as Connection | undefined;
  }
}
