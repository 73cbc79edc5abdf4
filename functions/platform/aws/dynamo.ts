import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  AppendOutcome,
  Connection,
  ConnectionStore,
  Member,
  MessageStore,
  OwnerChange,
  Room,
  RoomLife,
  RoomStore,
  SendBucket,
  SendStore,
} from '../../domain/ports';
import type { ChatMessage } from '../protocol';
import { LOBBY } from '../protocol';
import { retryingConflicts } from './conflicts';
import {
  cancellationReasons,
  type EventRecord,
  putRecord,
  recordFound,
  roomRefusal,
  type SendTables,
  takeSeqAndPut,
} from './roomEvents';

/** DynamoDB adapters of the chat ports. Their table names are handed over when a function wires them. */

/** API Gateway closes a connection after 2 h; the TTL is a safety net for a $disconnect that never ran. */
/**
 * How long after `connectedAt` the connection may still be in its handshake: API Gateway runs `$connect` under its
 * 29 s integration timeout and answers 410 to posts until it has returned. The fan-out deletes a connection on a 410
 * only once `prunableAfter` (connectedAt + this) had passed when its execution started (statemachines/fanout.asl.json).
 */
const HANDSHAKE_MS = 30_000;
const CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60;
/** Items one page of a message query reads while it passes expired messages not yet deleted. */
const MAX_EXPIRED_PAGE = 1000;
const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** Whether a conditional write happened: false when DynamoDB refused its condition, any other error thrown. */
async function applied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

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
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
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
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes as Connection | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async moveOutOf(connectionId: string, roomId: string, at: string): Promise<Connection | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression:
            'SET roomId = :lobby, lastActiveAt = :now, username = if_not_exists(chosenName, username)',
          ConditionExpression: 'roomId = :room',
          ExpressionAttributeValues: { ':lobby': LOBBY, ':room': roomId, ':now': at },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes as Connection | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async saveSendBucket(
    connectionId: string,
    bucket: SendBucket,
    previousAt: number | undefined,
  ): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId },
          UpdateExpression: 'SET sendBucket = :bucket',
          ConditionExpression:
            previousAt === undefined
              ? 'attribute_exists(connectionId) AND attribute_not_exists(sendBucket)'
              : 'attribute_exists(connectionId) AND sendBucket.#at = :previousAt',
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
    const members: Member[] = [];
    let count = 0;
    let includesConnection = false;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: this.roomIndex,
          KeyConditionExpression: 'roomId = :room',
          ExpressionAttributeValues: { ':room': roomId },
          ProjectionExpression: 'connectionId, username',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      for (const item of page.Items ?? []) {
        if (members.length < limit) members.push(item as Member);
        if (item.connectionId === connectionId) includesConnection = true;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { members, count, includesConnection };
  }
}

export class DynamoRoomStore implements RoomStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(room: Room): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: room,
          ConditionExpression: 'attribute_not_exists(roomId)',
        }),
      ),
    );
  }

  async get(roomId: string): Promise<Room | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { roomId }, ConsistentRead: true }),
    );
    return Item as Room | undefined;
  }

  async changeAsOwner(
    roomId: string,
    ownerId: string,
    nowSeconds: number,
    change: OwnerChange,
  ): Promise<Room | undefined> {
    const removing = change.kind === 'rotateKey' && change.removedName !== undefined;
    // The room's item is in every send's transaction: in a busy room the write may meet one and is tried again.
    return retryingConflicts(async () => {
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId },
            UpdateExpression:
              change.kind === 'rotateKey'
                ? `SET inviteKey = :key, keyRequired = :true${removing ? ' ADD removedNames :removed' : ''}`
                : 'SET closedAt = :closedAt, #ttl = :now',
            // Only the owner, and only while the room lives: neither closed nor past its TTL (not yet deleted).
            ConditionExpression:
              'ownerId = :owner AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':owner': ownerId,
              ':now': nowSeconds,
              ...(change.kind === 'rotateKey'
                ? {
                    ':key': change.inviteKey,
                    ':true': true,
                    ...(removing && { ':removed': new Set([change.removedName]) }),
                  }
                : { ':closedAt': change.closedAt }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes as Room | undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    });
  }
}

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async after(roomId: string, afterSeq: number, limit: number, nowSeconds: number): Promise<ChatMessage[]> {
    return this.live(
      {
        KeyConditionExpression: 'roomId = :room AND seq > :after',
        ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
      },
      limit,
      nowSeconds,
    );
  }

  async latest(roomId: string, limit: number, nowSeconds: number): Promise<ChatMessage[]> {
    const newestFirst = await this.live(
      {
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ScanIndexForward: false,
      },
      limit,
      nowSeconds,
    );
    return newestFirst.reverse();
  }

  /**
   * Up to `limit` items of the query whose TTL has not passed. DynamoDB applies `Limit` before the filter, so
   * expired items (not yet deleted) can fill a page. A message expires after every older one (its TTL is its send
   * time plus the retention, MessageRetentionDays), so going back in time (`ScanIndexForward: false`) the first
   * expired item ends the search; going forward, the expired ones come first and the query reads on past them, in
   * pages that grow.
   */
  private async live(
    query: {
      KeyConditionExpression: string;
      ExpressionAttributeValues: Record<string, unknown>;
      ScanIndexForward?: boolean;
    },
    limit: number,
    nowSeconds: number,
  ): Promise<ChatMessage[]> {
    const backwards = query.ScanIndexForward === false;
    const found: ChatMessage[] = [];
    let start: Record<string, unknown> | undefined;
    let pageLimit = limit;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          ...query,
          FilterExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ...query.ExpressionAttributeValues, ':now': nowSeconds },
          Limit: pageLimit,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const items = page.Items ?? [];
      found.push(...items.slice(0, limit - found.length).map(toMessage));
      const sawExpired = (page.ScannedCount ?? items.length) > items.length;
      if (backwards && sawExpired) break;
      start = page.LastEvaluatedKey;
      // A page of expired items only: the live ones are further on; read larger pages to reach them sooner.
      pageLimit = items.length === 0 ? Math.min(pageLimit * 4, MAX_EXPIRED_PAGE) : limit - found.length;
    } while (start !== undefined && found.length < limit);
    return found;
  }
}

function toMessage(item: Record<string, unknown>): ChatMessage {
  const { ttl: _ttl, ...message } = item;
  return message as unknown as ChatMessage;
}

export type { SendTables } from './roomEvents';

export class DynamoSendStore implements SendStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: SendTables,
  ) {}

  async append(
    message: ChatMessage,
    roomSeq: number | undefined,
    expiresAt: number,
    record?: EventRecord,
    life?: RoomLife,
  ): Promise<AppendOutcome> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...takeSeqAndPut(this.tables, message, roomSeq, expiresAt, life),
            ...putRecord(this.tables, message, record),
          ],
        }),
      );
      return { kind: 'stored' };
    } catch (error) {
      const [room, stored, sent] = cancellationReasons(error);
      const sentBefore = recordFound(sent);
      if (sentBefore) return { kind: 'sentBefore', record: sentBefore };
      if ([room, stored, sent].some((reason) => reason?.Code === 'TransactionConflict'))
        return { kind: 'conflict' };
      const refused = roomRefusal(room, life);
      if (refused) return refused;
      // The room does not exist (only the lobby may appear here), or the seq holds a message the room never counted.
      throw error;
    }
  }

  async message(roomId: string, seq: number): Promise<ChatMessage | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.messages, Key: { roomId, seq }, ConsistentRead: true }),
    );
    return Item ? toMessage(Item) : undefined;
  }

  async releasePublishing(sendKey: string, publisher: string): Promise<void> {
    await applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.sends,
          Key: { sendKey },
          UpdateExpression: 'REMOVE publisher',
          ConditionExpression: 'publisher = :me',
          ExpressionAttributeValues: { ':me': publisher },
        }),
      ),
    );
  }

  async takePublishing(
    sendKey: string,
    publisher: string,
    lapse?: { now: number; until: number },
  ): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.sends,
          Key: { sendKey },
          ...(lapse
            ? {
                UpdateExpression: 'SET publisher = :me, publishUntil = :until',
                ConditionExpression:
                  'attribute_exists(sendKey) AND (attribute_not_exists(publisher) OR publishUntil < :now)',
                ExpressionAttributeValues: { ':me': publisher, ':now': lapse.now, ':until': lapse.until },
              }
            : {
                UpdateExpression: 'SET publisher = :me',
                ConditionExpression: 'attribute_exists(sendKey) AND attribute_not_exists(publisher)',
                ExpressionAttributeValues: { ':me': publisher },
              }),
        }),
      ),
    );
  }
}
