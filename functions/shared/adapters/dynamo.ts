import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  Connection,
  ConnectionStore,
  Member,
  MessageStore,
  Room,
  RoomStore,
  SendBucket,
  SendLog,
  SendRecord,
} from '../ports';
import { type ChatMessage, LOBBY } from '../protocol';

/** DynamoDB adapters of the chat ports. Their table names are handed over when a function wires them. */

/** API Gateway closes a connection after 2 h; the TTL is a safety net for a $disconnect that never ran. */
const CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60;
/** A publish claim older than this is presumed abandoned (its Lambda died) and may be taken over, unless told. */
const PUBLISH_CLAIM_MS = 10_000;
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
          lastActiveAt: connection.connectedAt,
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

  async nextSeq(roomId: string): Promise<number> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { roomId },
        UpdateExpression: 'ADD seq :one',
        // The lobby row appears with its first message; every other room must have been created.
        ...(roomId === LOBBY ? {} : { ConditionExpression: 'attribute_exists(roomId)' }),
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.seq);
  }
}

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async put(message: ChatMessage, expiresAt: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...message, ttl: expiresAt },
        ConditionExpression: 'attribute_not_exists(seq)',
      }),
    );
  }

  async remove(roomId: string, seq: number, messageId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { roomId, seq },
          ConditionExpression: 'messageId = :id',
          ExpressionAttributeValues: { ':id': messageId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async after(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'roomId = :room AND seq > :after',
        ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map(toMessage);
  }

  async latest(roomId: string, limit: number): Promise<ChatMessage[]> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
      }),
    );
    return (Items ?? []).map(toMessage).reverse();
  }
}

function toMessage(item: Record<string, unknown>): ChatMessage {
  const { ttl: _ttl, ...message } = item;
  return message as unknown as ChatMessage;
}

export class DynamoSendLog implements SendLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(record: SendRecord, expiresAt: number): Promise<{ record: SendRecord; created: boolean }> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...record, ttl: expiresAt },
          ConditionExpression: 'attribute_not_exists(sendKey)',
        }),
      );
      return { record, created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { sendKey: record.sendKey }, ConsistentRead: true }),
    );
    if (!Item) throw new Error(`send record ${record.sendKey} vanished between claim and read`);
    return { record: Item as SendRecord, created: false };
  }

  async takeOver(
    sendKey: string,
    fromClaimId: string | undefined,
    to: Pick<SendRecord, 'claimId' | 'claimedAt' | 'liveUntil'>,
  ): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { sendKey },
          UpdateExpression: 'SET claimId = :to, claimedAt = :at, liveUntil = :until',
          ConditionExpression: `attribute_not_exists(seq) AND ${fromClaimId === undefined ? 'attribute_not_exists(claimId)' : 'claimId = :from'}`,
          ExpressionAttributeValues: {
            ':to': to.claimId,
            ':at': to.claimedAt,
            ':until': to.liveUntil,
            ...(fromClaimId !== undefined && { ':from': fromClaimId }),
          },
        }),
      ),
    );
  }

  async recordSeq(
    sendKey: string,
    claimId: string,
    seq: number,
    sentAt: string,
    publishClaimAt?: number,
  ): Promise<boolean> {
    const claim = publishClaimAt !== undefined;
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { sendKey },
          UpdateExpression: `SET seq = :seq, sentAt = :sentAt${claim ? ', publishingSince = :now' : ''}`,
          // A holder whose claim was taken over must not overwrite the seq of the attempt that took it.
          ConditionExpression: 'claimId = :claim',
          ExpressionAttributeValues: {
            ':seq': seq,
            ':sentAt': sentAt,
            ':claim': claimId,
            ...(claim ? { ':now': publishClaimAt } : {}),
          },
        }),
      ),
    );
  }

  async forget(sendKey: string, claimId: string): Promise<void> {
    await this.db.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { sendKey },
        ConditionExpression: 'attribute_not_exists(seq) AND claimId = :claim',
        ExpressionAttributeValues: { ':claim': claimId },
      }),
    );
  }

  async claimPublish(
    sendKey: string,
    nowMs: number,
    options: { takeOver?: boolean; staleAfterMs?: number } = {},
  ): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { sendKey },
          UpdateExpression: 'SET publishingSince = :now',
          ConditionExpression: options.takeOver
            ? 'published <> :true'
            : 'published <> :true AND (attribute_not_exists(publishingSince) OR publishingSince < :stale)',
          ExpressionAttributeValues: {
            ':now': nowMs,
            ':true': true,
            ...(options.takeOver ? {} : { ':stale': nowMs - (options.staleAfterMs ?? PUBLISH_CLAIM_MS) }),
          },
        }),
      ),
    );
  }

  async releasePublish(sendKey: string, heldSince?: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { sendKey },
          UpdateExpression: 'REMOVE publishingSince',
          // Late, it must not remove a claim another attempt took since.
          ...(heldSince !== undefined && {
            ConditionExpression: 'publishingSince = :since',
            ExpressionAttributeValues: { ':since': heldSince },
          }),
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async markPublished(
    sendKey: string,
    seq?: { seq: number; sentAt: string; claimId: string },
  ): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { sendKey },
          UpdateExpression: `SET published = :true${seq ? ', seq = :seq, sentAt = :sentAt' : ''}`,
          // Carrying a seq, it is a late recordSeq: only the holder of the claim may write it.
          ...(seq && { ConditionExpression: 'claimId = :claim' }),
          ExpressionAttributeValues: {
            ':true': true,
            ...(seq ? { ':seq': seq.seq, ':sentAt': seq.sentAt, ':claim': seq.claimId } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (seq && isConditionFailure(error)) return false;
      throw error;
    }
  }
}
