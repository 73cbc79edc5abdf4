import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { peopleKeys } from '#core/peopleKeys';
import { batchGetAll } from '#platform/aws/batchGet';
import type { Person } from '#protocol';
import type { PeopleStore, SharedRoom } from './people';

/**
 * The reads findpeople and opendm make of the Memberships table (people.ts): the caller's memberships (its base
 * key), a room's signed-in members by name (the sparse PeopleIndex: `peopleKey` = `roomId#n`, `nameKey`; every shard
 * of the room read in parallel, peopleKeys.ts), and whether a user has a membership of given rooms (BatchGetItem of
 * their keys).
 */

/** BatchGetItem takes at most 100 keys per request. */
const BATCH = 100;

export class DynamoPeopleStore implements PeopleStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { memberships: string; peopleIndex: string },
  ) {}

  async roomsOf(memberKey: string, limit: number): Promise<string[]> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tables.memberships,
        KeyConditionExpression: 'memberKey = :key',
        ExpressionAttributeValues: { ':key': memberKey },
        ProjectionExpression: 'roomId',
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map((item) => String(item.roomId));
  }

  async namedIn(roomId: string, prefix: string, limit: number): Promise<Person[]> {
    // Each shard's matches come in nameKey order, at most `limit` each: the first `limit` of the room are among
    // them, so a merge by nameKey that stops at `limit` is the room's first `limit` in name order.
    const shards = await Promise.all(
      peopleKeys(roomId).map(async (key) => {
        const page = await this.db.send(
          new QueryCommand({
            TableName: this.tables.memberships,
            IndexName: this.tables.peopleIndex,
            KeyConditionExpression: 'peopleKey = :key AND begins_with(nameKey, :prefix)',
            ExpressionAttributeValues: { ':key': key, ':prefix': prefix },
            ProjectionExpression: 'memberKey, username, nameKey',
            Limit: limit,
          }),
        );
        return page.Items ?? [];
      }),
    );
    return shards
      .flat()
      .filter((item) => typeof item.username === 'string' && String(item.memberKey).startsWith('user:'))
      .sort((a, b) => compare(String(a.nameKey), String(b.nameKey)))
      .slice(0, limit)
      .map((item) => ({ userId: String(item.memberKey), username: String(item.username) }));
  }

  async memberOf(memberKey: string, roomIds: string[]): Promise<SharedRoom[]> {
    const found: SharedRoom[] = [];
    for (let i = 0; i < roomIds.length; i += BATCH) {
      const items = await batchGetAll(this.db, {
        TableName: this.tables.memberships,
        Keys: roomIds.slice(i, i + BATCH).map((roomId) => ({ memberKey, roomId })),
        ProjectionExpression: 'roomId, username',
      });
      found.push(
        ...items.map((item) => ({
          roomId: String(item.roomId),
          ...(typeof item.username === 'string' && item.username !== '' && { username: item.username }),
        })),
      );
    }
    return found;
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
