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
import { allRoomMembers, roomKeyOf, roomMemberPages } from './roomMembers';

/**
 * How long after `connectedAt` the connection may still be in its handshake: API Gateway runs `$connect` under its
 * 29 s integration timeout and answers 410 to posts until it has returned. The fan-out deletes a connection on a 410
 * only once `prunableAfter` (connectedAt + this) had passed when its execution started (statemachines/fanout.asl.json).
 */
const HANDSHAKE_MS = 30_000;
/** API Gateway closes a connection after 2 h; the TTL is a safety net for a $disconnect that never ran. */
const CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60;

/** The DynamoDB adapter of ConnectionStore: one item per live connection, found by room through the room index. */
export class DynamoConnectionStore implements ConnectionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly roomIndex: string,
  ) {}

  async put(connection: Connection): Promise<void> {
    const now = Date.parse(connection.connectedAt);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...connection,
          // The room index's key (roomMembers.ts): the room, sharded by the connection.
          roomKey: roomKeyOf(connection.roomId, connection.connectionId),
          // The sparse user index's key: only a signed-in user's devices are found by user (rooms/dmNotice.ts).
          ...(connection.userId?.startsWith('user:') && { signedInUserId: connection.userId }),
          lastActiveAt: connection.connectedAt,
          prunableAfter: new Date(now + HANDSHAKE_MS).toISOString(),
          ttl: Math.floor(now / 1000) + CONNECTION_TTL_SECONDS,
        },
      }),
    );
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { connectionId } }));
    return Item as Connection | undefined;
  }

  async remove(connectionId: string): Promise<Connection | undefined> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { connectionId }, ReturnValues: 'ALL_OLD' }),
    );
    return Attributes as Connection | undefined;
  }

  async moveToRoom(
    connectionId: string,
    roomId: string,
    at: string,
    username?: string,
  ): Promise<Connection | undefined> {
    return this.move(connectionId, {
      // Without a name for the room, the chosen one again (records made before it was kept keep theirs). A resync
      // note is owed in the room left (dynamoResyncNotes.ts): it goes with the move.
      UpdateExpression: `${
        username === undefined
          ? 'SET roomId = :room, roomKey = :roomKey, lastActiveAt = :now, username = if_not_exists(chosenName, username)'
          : 'SET roomId = :room, roomKey = :roomKey, lastActiveAt = :now, username = :name'
      } REMOVE resyncRoom, resyncAfter`,
      ConditionExpression: 'attribute_exists(connectionId)',
      ExpressionAttributeValues: {
        ':room': roomId,
        ':roomKey': roomKeyOf(roomId, connectionId),
        ':now': at,
        ...(username !== undefined && { ':name': username }),
      },
    });
  }

  async moveOutOf(connectionId: string, roomId: string, at: string): Promise<Connection | undefined> {
    return this.move(connectionId, {
      UpdateExpression:
        'SET roomId = :lobby, roomKey = :lobbyKey, lastActiveAt = :now, username = if_not_exists(chosenName, username) REMOVE resyncRoom, resyncAfter',
      ConditionExpression: 'roomId = :room',
      ExpressionAttributeValues: {
        ':lobby': LOBBY,
        ':lobbyKey': roomKeyOf(LOBBY, connectionId),
        ':room': roomId,
        ':now': at,
      },
    });
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
    const everyone = await allRoomMembers(this.db, { table: this.table, index: this.roomIndex, roomId });
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
      { table: this.table, index: this.roomIndex, roomId },
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
