import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { nameKey, peopleKeyOf } from '#core/peopleKeys';
import type { Connection, Room } from '#core/ports';
import { roomEnd } from '#core/roomLife';
import { batchGetMany } from '#platform/aws/batchGet';
import { unlessRefused } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import type { Membership, MembershipStore } from './memberships';

/**
 * The Memberships table (one item per member identity and room: `memberKey`, `roomId`, `lastReadSeq`, `inviteKey`,
 * `dm`, `at`) and the reads `myrooms` and `opendm` make of the Rooms, Messages and Connections tables (a read
 * position moves in functions/reading/dynamoReadPositions.ts).
 */

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * What `myrooms` reads of a room (memberships.ts myRooms): whether the member may still enter it (its end, owner, key
 * rule and key, a DM's pair), its seq for the unread count and its names for a DM. Nothing else of the item: not
 * its removed names or the fan-out's state. template.yaml's RoomsFunction may read these attributes only
 * (dynamodb:Attributes), so a new one read here must be added there too.
 * Exported for tests: iam.test.ts checks the role reads these and no others.
 */
export const LISTED_ROOM_ATTRIBUTES = [
  'roomId',
  'seq',
  'ttl',
  'closedAt',
  'ownerId',
  'keyRequired',
  // The key's id, never the key (rooms.ts keyIdOf): the owner's current key is on its own membership (moderation/owners.ts).
  'keyId',
  'dmMembers',
  'dmNames',
  // The room's name and whether it is public (protocol/directory.ts): a public room lets a member back in by code.
  'name',
  'isPublic',
] as const;

export class DynamoMembershipStore implements MembershipStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { memberships: string; rooms: string; connections: string; messages: string },
  ) {}

  /**
   * Counts the room's messages after `afterSeq` not written by `authorKey`, leaving out tombstones and the change
   * events (edits, deletes, reactions: their items carry `change`). One Query page of at most `maxEvents` items, so
   * the read is bounded whatever the room's traffic: a filter does not reduce what a Query is charged, it is charged
   * for every item it reads. `more` when the page stopped before the room's last event.
   */
  async unreadAfter(
    roomId: string,
    afterSeq: number,
    authorKey: string,
    maxEvents: number,
  ): Promise<{ count: number; more: boolean; mentions: number }> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tables.messages,
        KeyConditionExpression: 'roomId = :room AND seq > :after',
        // The room's flow only: a reply in a thread counts in the Threads view unless also sent to the room
        // (docs/DECISIONS.md, "A room left, placed and counted the same on every device").
        FilterExpression:
          'attribute_not_exists(change) AND attribute_not_exists(deleted) AND ' +
          '(attribute_not_exists(authorKey) OR authorKey <> :me) AND ' +
          '(attribute_not_exists(threadOf) OR alsoToRoom = :true)',
        ProjectionExpression: 'seq, mentionKeys',
        ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq, ':me': authorKey, ':true': true },
        Limit: maxEvents,
      }),
    );
    const mentions = (page.Items ?? []).filter(
      (item) => Array.isArray(item.mentionKeys) && item.mentionKeys.includes(authorKey),
    ).length;
    return { count: page.Count ?? 0, more: page.LastEvaluatedKey !== undefined, mentions };
  }

  async join(
    memberKey: string,
    roomId: string,
    entry: { inviteKey?: string; dm?: boolean; at: string; readSeq?: number; ttl?: number; name?: string },
  ): Promise<boolean> {
    // A signed-in member's name, for finding people (people.ts): `nameKey` and `peopleKey` (its shard of the room,
    // peopleKeys.ts) put it in the sparse PeopleIndex.
    const name = entry.name !== undefined && memberKey.startsWith('user:') ? entry.name : undefined;
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
          name === undefined ? '' : ', username = :name, nameKey = :nameKey, peopleKey = :peopleKey',
          entry.inviteKey === undefined ? ' REMOVE inviteKey' : '',
        ].join(''),
        ExpressionAttributeNames: { '#at': 'at', ...(entry.ttl !== undefined && { '#ttl': 'ttl' }) },
        ExpressionAttributeValues: {
          ':at': entry.at,
          ...(entry.ttl !== undefined && { ':ttl': entry.ttl }),
          ':zero': entry.readSeq ?? 0,
          ...(entry.inviteKey !== undefined && { ':key': entry.inviteKey }),
          ...(entry.dm && { ':true': true }),
          ...(name !== undefined && {
            ':name': name,
            ':nameKey': nameKey(name, memberKey),
            ':peopleKey': peopleKeyOf(roomId, memberKey),
          }),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return Attributes?.at === undefined;
  }

  async rekey(memberKey: string, roomId: string, inviteKey: string): Promise<void> {
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.memberships,
          Key: { memberKey, roomId },
          UpdateExpression: 'SET inviteKey = :key',
          // Never creates a membership: an owner who left its room's list is not put back on it.
          ConditionExpression: 'attribute_exists(memberKey)',
          ExpressionAttributeValues: { ':key': inviteKey },
        }),
      ),
    );
  }

  async leave(memberKey: string, roomId: string): Promise<boolean> {
    // ALL_OLD costs nothing beyond the delete: it tells a membership removed from one already gone.
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.tables.memberships,
        Key: { memberKey, roomId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
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
      ...(typeof item.username === 'string' && { username: item.username }),
      ...((item.notices === 'mentions' || item.notices === 'mute') && { notices: item.notices }),
    }));
  }

  /** The rooms as `myrooms` lists them: LISTED_ROOM_ATTRIBUTES only. */
  async rooms(roomIds: string[]): Promise<Room[]> {
    return (await batchGetMany(this.db, {
      TableName: this.tables.rooms,
      Keys: [...new Set(roomIds)].map((roomId) => ({ roomId })),
      ProjectionExpression: LISTED_ROOM_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(LISTED_ROOM_ATTRIBUTES.map((name, i) => [`#a${i}`, name])),
    })) as unknown as Room[];
  }

  async connections(connectionIds: string[]): Promise<Connection[]> {
    return (await batchGetMany(this.db, {
      TableName: this.tables.connections,
      Keys: [...new Set(connectionIds)].map((connectionId) => ({ connectionId })),
    })) as unknown as Connection[];
  }

  async openDm(
    room: Room & { dmMembers: string[]; dmNames: string[] },
    nowSeconds: number,
    beforeCreate?: () => Promise<void>,
  ): Promise<Room> {
    let admitted = false;
    for (let tries = 0; tries < 3; tries++) {
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tables.rooms, Key: { roomId: room.roomId }, ConsistentRead: true }),
      );
      const current = Item as Room | undefined;
      if (!current) {
        if (!admitted) await beforeCreate?.();
        admitted = true;
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
      // No join holds a room's item (joins check its gates) and a direct-message room has no owner to change it:
      // a transaction met here is unexpected, and waited out all the same.
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
