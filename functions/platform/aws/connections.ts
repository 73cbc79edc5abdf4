import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { BucketKind, Connection, ConnectionStore, Member, SendBucket } from '../../domain/ports';
import { LOBBY } from '../protocol';
import { applied, unlessRefused } from './conditions';
import { allRoomMembers, roomMemberPages } from './roomMembers';
import {
  connectionTtl,
  deleteSubscription,
  HANDSHAKE_MS,
  putSubscription,
  type SubscriptionTables,
  subscriptionItem,
  unsubscribeAll,
} from './subscriptions';

/**
 * The DynamoDB adapter of ConnectionStore: one item per live connection, and one subscription item per room it
 * follows (subscriptions.ts), through which a room's members are found (the RoomSubscribers index). The connection's
 * `roomId` is its room; each move writes the new room's subscription before it deletes the old one's, so the
 * connection is never in no room's index in between.
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

  /** Deletes the connection and every subscription it has (a pruned one too: the fan-out leaves it for this). */
  async remove(connectionId: string): Promise<Connection | undefined> {
    const [{ Attributes }] = await Promise.all([
      this.db.send(
        new DeleteCommand({ TableName: this.table, Key: { connectionId }, ReturnValues: 'ALL_OLD' }),
      ),
      unsubscribeAll(this.db, this.subscriptions.table, connectionId),
    ]);
    return Attributes as Connection | undefined;
  }

  async moveToRoom(
    connectionId: string,
    roomId: string,
    at: string,
    username?: string,
  ): Promise<Connection | undefined> {
    const before = await this.move(connectionId, {
      // Without a name for the room, the chosen one again (records made before it was kept keep theirs). A resync
      // note is owed in the room left (dynamoResyncNotes.ts): it goes with the move.
      UpdateExpression: `${
        username === undefined
          ? 'SET roomId = :room, lastActiveAt = :now, username = if_not_exists(chosenName, username)'
          : 'SET roomId = :room, lastActiveAt = :now, username = :name'
      } REMOVE resyncRoom, resyncAfter`,
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

  async moveOutOf(connectionId: string, roomId: string, at: string): Promise<Connection | undefined> {
    const before = await this.move(connectionId, {
      UpdateExpression:
        'SET roomId = :lobby, lastActiveAt = :now, username = if_not_exists(chosenName, username) REMOVE resyncRoom, resyncAfter',
      ConditionExpression: 'roomId = :room',
      ExpressionAttributeValues: {
        ':lobby': LOBBY,
        ':room': roomId,
        ':now': at,
      },
    });
    if (before) await this.resubscribe(before, LOBBY, before.chosenName ?? before.username, at);
    return before;
  }

  /**
   * The subscription side of a move the connection item took: the new room's subscription first, then the old
   * room's deleted, so a fan-out in between finds the connection in at least one of them (never in neither).
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
    if (before.roomId !== roomId)
      await deleteSubscription(this.db, this.subscriptions.table, before.connectionId, before.roomId);
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

  /** Up to `limit` of the room's members, reading the index only as far as that (a big room's mentions). */
  async membersUpTo(roomId: string, limit: number): Promise<Member[]> {
    const members: Member[] = [];
    for await (const page of roomMemberPages(
      this.db,
      { ...this.subscriptions, roomId },
      () => limit - members.length,
    )) {
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
