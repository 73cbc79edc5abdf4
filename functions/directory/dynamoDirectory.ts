import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { keyIdOf } from '#core/aws/rooms';
import type { Room } from '#core/ports';
import { cancellationCodes } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import type { Profile } from '#protocol';
import type { DirectoryStore, ListedEntry, RoomSettingChange, StoredProfile } from './ports';

/**
 * The DirectoryTable (`listKey`, `entryKey`; docs/DECISIONS.md, "Named rooms, the directory and profiles"):
 * - `rooms` / `<folded name>`: a public room's name. The name's uniqueness is this item's conditional put, in the
 *   same transaction as the room's own write, so two public rooms never hold one name, with no index to lag;
 *   the partition is the directory, sorted by name: a prefix search is one Query with begins_with.
 * - `profile#<userId>` / `profile`: a signed-in user's profile.
 */
const ROOMS_LIST = 'rooms';
const PROFILE = 'profile';
const profileKey = (userId: string) => ({ listKey: `${PROFILE}#${userId}`, entryKey: PROFILE });

/** What listrooms reads of each listed room to know it still lives and is still public under that name. */
const LIVE_ATTRIBUTES = ['roomId', 'ttl', 'closedAt', 'isPublic', 'listedAs', 'topic', 'name'];

export class DynamoDirectoryStore implements DirectoryStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { directory: string; rooms: string },
  ) {}

  async createListed(room: Room, entry: ListedEntry): Promise<'created' | 'codeTaken' | 'nameTaken'> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.rooms,
                Item: room.inviteKey === undefined ? room : { ...room, keyId: keyIdOf(room.inviteKey) },
                ConditionExpression: 'attribute_not_exists(roomId)',
              },
            },
            {
              Put: {
                TableName: this.tables.directory,
                Item: { listKey: ROOMS_LIST, ...entry },
                ConditionExpression: 'attribute_not_exists(entryKey)',
              },
            },
          ],
        }),
      );
      return 'created';
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === 'ConditionalCheckFailed') return 'codeTaken';
      if (codes?.[1] === 'ConditionalCheckFailed') return 'nameTaken';
      throw error;
    }
  }

  async holder(entryKey: string): Promise<ListedEntry | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.directory,
        Key: { listKey: ROOMS_LIST, entryKey },
        ConsistentRead: true,
      }),
    );
    return Item as ListedEntry | undefined;
  }

  async dropEntry(entryKey: string, roomId: string): Promise<void> {
    await this.db
      .send(
        new DeleteCommand({
          TableName: this.tables.directory,
          Key: { listKey: ROOMS_LIST, entryKey },
          ConditionExpression: 'roomId = :roomId',
          ExpressionAttributeValues: { ':roomId': roomId },
        }),
      )
      .catch(() => undefined);
  }

  async search(
    prefix: string,
    after: string | undefined,
    limit: number,
  ): Promise<{ entries: ListedEntry[]; next?: string }> {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tables.directory,
        KeyConditionExpression:
          prefix === '' ? 'listKey = :list' : 'listKey = :list AND begins_with(entryKey, :prefix)',
        ExpressionAttributeValues: { ':list': ROOMS_LIST, ...(prefix !== '' && { ':prefix': prefix }) },
        ...(after !== undefined && { ExclusiveStartKey: { listKey: ROOMS_LIST, entryKey: after } }),
        Limit: limit,
      }),
    );
    const entries = (Items ?? []) as ListedEntry[];
    return { entries, ...(LastEvaluatedKey && { next: LastEvaluatedKey.entryKey as string }) };
  }

  async rooms(roomIds: string[]): Promise<Room[]> {
    if (roomIds.length === 0) return [];
    const { Responses } = await this.db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.tables.rooms]: {
            Keys: roomIds.map((roomId) => ({ roomId })),
            ProjectionExpression: LIVE_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
            ExpressionAttributeNames: Object.fromEntries(LIVE_ATTRIBUTES.map((a, i) => [`#a${i}`, a])),
          },
        },
      }),
    );
    return (Responses?.[this.tables.rooms] ?? []) as Room[];
  }

  async change(change: RoomSettingChange): Promise<'changed' | 'refused' | 'nameTaken'> {
    const { roomId, ownerId, nowSeconds, from, to } = change;
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [];
    const values: Record<string, unknown> = {
      ':owner': ownerId,
      ':ownerKey': change.ownerKey,
      ':now': nowSeconds,
    };
    const sets = ['isPublic = :public'];
    values[':public'] = change.isPublic;
    if (change.name !== undefined) {
      sets.push('#name = :name');
      values[':name'] = change.name;
    }
    if (change.topic !== undefined) {
      sets.push('topic = :topic');
      values[':topic'] = change.topic;
    }
    if (change.membersPin !== undefined) {
      sets.push('membersPin = :membersPin');
      values[':membersPin'] = change.membersPin;
    }
    if (to !== undefined) {
      sets.push('listedAs = :to');
      values[':to'] = to;
    }
    // The room's write holds only for its owner, while it lives, and while it is listed as this change read it: two
    // owners' changes at once never leave an entry no room points at.
    const listedNow = from === undefined ? 'attribute_not_exists(listedAs)' : 'listedAs = :from';
    if (from !== undefined) values[':from'] = from;
    items.push({
      Update: {
        TableName: this.tables.rooms,
        Key: { roomId },
        UpdateExpression: `SET ${sets.join(', ')}${to === undefined ? ' REMOVE listedAs' : ''}`,
        ConditionExpression: `(ownerId = :owner OR ownerKey = :ownerKey) AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now) AND ${listedNow}`,
        ExpressionAttributeNames: { '#ttl': 'ttl', ...(change.name !== undefined && { '#name': 'name' }) },
        ExpressionAttributeValues: values,
      },
    });
    const entry = { listKey: ROOMS_LIST, roomId, name: change.listedName ?? '', topic: change.topic ?? '' };
    if (from !== undefined && from !== to)
      items.push({
        Delete: {
          TableName: this.tables.directory,
          Key: { listKey: ROOMS_LIST, entryKey: from },
          ConditionExpression: 'roomId = :roomId',
          ExpressionAttributeValues: { ':roomId': roomId },
        },
      });
    if (to !== undefined)
      items.push({
        Put: {
          TableName: this.tables.directory,
          Item: { ...entry, entryKey: to },
          // A new name is free; the room's own entry (a topic or a case change) is its own.
          ConditionExpression: 'attribute_not_exists(entryKey) OR roomId = :roomId',
          ExpressionAttributeValues: { ':roomId': roomId },
        },
      });
    const newEntryAt = to === undefined ? -1 : items.length - 1;
    try {
      await retryingConflicts(() => this.db.send(new TransactWriteCommand({ TransactItems: items })));
      return 'changed';
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined) throw error;
      if (codes[0] === 'ConditionalCheckFailed') return 'refused';
      if (newEntryAt >= 0 && codes[newEntryAt] === 'ConditionalCheckFailed') return 'nameTaken';
      // The old entry was not the room's: another change moved it meanwhile; read again and retry.
      return 'refused';
    }
  }

  async saveProfile(profile: StoredProfile): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tables.directory,
        Item: { ...profileKey(profile.userId), ...profile },
      }),
    );
  }

  async profile(userId: string): Promise<StoredProfile | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.directory, Key: profileKey(userId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { listKey: _l, entryKey: _e, ...profile } = Item;
    return profile as Profile as StoredProfile;
  }
}
