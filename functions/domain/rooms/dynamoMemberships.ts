import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '../../platform/aws/batchGet';
import { retryingConflicts } from '../../platform/aws/conflicts';
import type { Connection, Room } from '../ports';
import type { Membership, MembershipStore } from './memberships';
import { roomEnd } from './roomLife';

/**
 * The Memberships table (one item per member identity and room: `memberKey`, `roomId`, `lastReadSeq`, `inviteKey`,
 * `dm`, `at`) and the reads `myrooms` and `seenby` make of the Rooms and Connections tables.
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** BatchGetItem takes at most 100 keys per request. */
const BATCH = 100;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

export class DynamoMembershipStore implements MembershipStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { memberships: string; rooms: string; connections: string },
  ) {}

  async join(
    memberKey: string,
    roomId: string,
    entry: { inviteKey?: string; dm?: boolean; at: string; readSeq?: number; ttl?: number },
  ): Promise<boolean> {
    // One UpdateItem that keeps the read position: a rejoin from another device must not reset it. A first entry
    // starts at `readSeq`, what the member was shown on entering. `at` is on every item: its old value tells a
    // first entry from a rejoin at no extra cost.
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.tables.memberships,
        Key: { memberKey, roomId },
        UpdateExpression: [
          'SET #at = :at, lastReadSeq = if_not_exists(lastReadSeq, :zero)',
          entry.inviteKey === undefined ? '' : ', inviteKey = :key',
          entry.dm ? ', dm = :true' : '',
          entry.ttl === undefined ? '' : ', #ttl = :ttl',
          entry.inviteKey === undefined ? ' REMOVE inviteKey' : '',
        ].join(''),
        ExpressionAttributeNames: { '#at': 'at', ...(entry.ttl !== undefined && { '#ttl': 'ttl' }) },
        ExpressionAttributeValues: {
          ':at': entry.at,
          ...(entry.ttl !== undefined && { ':ttl': entry.ttl }),
          ':zero': entry.readSeq ?? 0,
          ...(entry.inviteKey !== undefined && { ':key': entry.inviteKey }),
          ...(entry.dm && { ':true': true }),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return Attributes?.at === undefined;
  }

  async leave(memberKey: string, roomId: string) {
    await this.db.send(new DeleteCommand({ TableName: this.tables.memberships, Key: { memberKey, roomId } }));
  }

  async markRead(memberKey: string, roomId: string, seq: number, at: string, ttl?: number): Promise<number> {
    try {
      // Only forward: two devices reading at once, or a late retry, never move a position back.
      await this.db.send(
        new UpdateCommand({
          TableName: this.tables.memberships,
          Key: { memberKey, roomId },
          UpdateExpression: `SET lastReadSeq = :seq, #at = :at${ttl === undefined ? '' : ', #ttl = :ttl'}`,
          ConditionExpression: 'attribute_not_exists(lastReadSeq) OR lastReadSeq < :seq',
          ExpressionAttributeNames: { '#at': 'at', ...(ttl !== undefined && { '#ttl': 'ttl' }) },
          ExpressionAttributeValues: { ':seq': seq, ':at': at, ...(ttl !== undefined && { ':ttl': ttl }) },
        }),
      );
      return seq;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Already at or past `seq`: say where it is (this read happens only on a refused move).
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tables.memberships, Key: { memberKey, roomId } }),
      );
      return Math.max(seq, Number(Item?.lastReadSeq ?? 0));
    }
  }

  /** Up to `limit` of the member's memberships, reading page after page (a page stops at 1 MB). */
  async list(memberKey: string, limit: number): Promise<Membership[]> {
    const Items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tables.memberships,
          KeyConditionExpression: 'memberKey = :key',
          ExpressionAttributeValues: { ':key': memberKey },
          Limit: limit - Items.length,
          ExclusiveStartKey: start,
        }),
      );
      Items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && Items.length < limit);
    return Items.map((item) => ({
      memberKey,
      roomId: String(item.roomId),
      lastReadSeq: Number(item.lastReadSeq ?? 0),
      ...(typeof item.inviteKey === 'string' && { inviteKey: item.inviteKey }),
      ...(item.dm === true && { dm: true }),
    }));
  }

  async positions(memberKeys: string[], roomId: string): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const keys of chunks(memberKeys)) {
      const items = await batchGetAll(this.db, {
        TableName: this.tables.memberships,
        Keys: keys.map((memberKey) => ({ memberKey, roomId })),
      });
      for (const item of items) found.set(String(item.memberKey), Number(item.lastReadSeq ?? 0));
    }
    return found;
  }

  async rooms(roomIds: string[]): Promise<Room[]> {
    const found: Room[] = [];
    for (const keys of chunks([...new Set(roomIds)]))
      found.push(
        ...((await batchGetAll(this.db, {
          TableName: this.tables.rooms,
          Keys: keys.map((roomId) => ({ roomId })),
        })) as unknown as Room[]),
      );
    return found;
  }

  async connections(connectionIds: string[]): Promise<Connection[]> {
    const found: Connection[] = [];
    for (const keys of chunks([...new Set(connectionIds)]))
      found.push(
        ...((await batchGetAll(this.db, {
          TableName: this.tables.connections,
          Keys: keys.map((connectionId) => ({ connectionId })),
        })) as unknown as Connection[]),
      );
    return found;
  }

  async openDm(room: Room & { dmMembers: string[]; dmNames: string[] }, nowSeconds: number): Promise<Room> {
    for (let tries = 0; tries < 3; tries++) {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tables.rooms, Key: { roomId: room.roomId }, ConsistentRead: true }),
      );
      const current = Item as Room | undefined;
      if (!current) {
        try {
          await this.db.send(
            new PutCommand({
              TableName: this.tables.rooms,
              Item: room,
              ConditionExpression: 'attribute_not_exists(roomId)',
            }),
          );
          return room;
        } catch (error) {
          // The other member opened it at the same moment: read it again.
          if (isConditionFailure(error)) continue;
          throw error;
        }
      }
      // A name stays known once known: an open by id alone does not erase the peer's.
      const names = room.dmNames.map((name, i) => name || current.dmNames?.[i] || '');
      const ended = roomEnd(current, new Date(nowSeconds * 1000)) !== undefined;
      const renamed = names.some((name, i) => name !== current.dmNames?.[i]);
      if (!ended && !renamed) return current;
      // The room's item is in every send's transaction: the write may meet one and is tried again.
      const { Attributes } = await retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.rooms,
            Key: { roomId: room.roomId },
            // An ended direct message lives again (the pair is the same): its seq goes on from where it was.
            UpdateExpression: `SET dmNames = :names${ended ? ', #ttl = :ttl REMOVE closedAt' : ''}`,
            ConditionExpression: 'attribute_exists(roomId)',
            ...(ended && { ExpressionAttributeNames: { '#ttl': 'ttl' } }),
            ExpressionAttributeValues: { ':names': names, ...(ended && { ':ttl': room.ttl }) },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return Attributes as Room;
    }
    throw new Error(`direct-message room ${room.roomId} changed under three opens in a row`);
  }
}
