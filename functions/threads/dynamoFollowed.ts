import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { membershipTtl } from '#core/memberKeys';
import { epochSeconds } from '#core/roomLife';
import { batchGetMany } from '#platform/aws/batchGet';
import { retryingConflicts } from '#platform/aws/conflicts';
import type { FollowedEntry, FollowedStore } from './followed';

/**
 * The DynamoDB adapter of FollowedStore (followed.ts): a person's followed threads are its own partition of the
 * Memberships table, `threads#<person>` (the person as memberKeyOf names it), one item a thread sorted by
 * `<roomId>#<rootSeq>`: `room`, `seq`, `readCount` (the replies the person has seen), `ttl`. No other partition of
 * the table is written here; the person's memberships (`<person>`, `<roomId>`) are read to list only rooms it is in.
 */
const partition = (person: string) => `threads#${person}`;
const sortKey = (roomId: string, seq: number) => `${roomId}#${seq}`;

export class DynamoFollowedStore implements FollowedStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Seconds a message is kept (MESSAGE_RETENTION_DAYS): an entry outliving its root would list nothing. */
    private readonly keepSeconds: number,
  ) {}

  async follow(
    person: string,
    roomId: string,
    seq: number,
    entry: { readCount: number; onlyNew?: boolean; now: Date },
  ): Promise<void> {
    // Written again by each follow and reply: an entry goes when the messages it follows do, or sooner with the
    // memberships of a person not signed in (membershipTtl).
    const kept = epochSeconds(entry.now) + this.keepSeconds;
    const ttl = Math.min(kept, membershipTtl(person, entry.now) ?? kept);
    // `onlyNew`: a stored entry keeps the replies it has seen.
    const read = entry.onlyNew ? 'if_not_exists(readCount, :read)' : ':read';
    await retryingConflicts(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { memberKey: partition(person), roomId: sortKey(roomId, seq) },
          UpdateExpression: `SET room = :room, seq = :seq, readCount = ${read}, #ttl = :ttl`,
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':room': roomId,
            ':seq': seq,
            ':ttl': ttl,
            ':read': entry.readCount,
          },
        }),
      ),
    );
  }

  async unfollow(person: string, roomId: string, seq: number): Promise<void> {
    await retryingConflicts(() =>
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { memberKey: partition(person), roomId: sortKey(roomId, seq) },
        }),
      ),
    );
  }

  async list(person: string, limit: number): Promise<{ entries: FollowedEntry[]; more: boolean }> {
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'memberKey = :p',
        ExpressionAttributeValues: { ':p': partition(person) },
        ProjectionExpression: 'room, seq, readCount',
        Limit: limit,
      }),
    );
    const entries = Items.map((item) => ({
      roomId: String(item.room),
      seq: Number(item.seq),
      readCount: Number(item.readCount ?? 0),
    }));
    return { entries, more: LastEvaluatedKey !== undefined };
  }

  async roomsOf(person: string, roomIds: readonly string[]): Promise<Set<string>> {
    if (roomIds.length === 0) return new Set();
    const items = await batchGetMany(this.db, {
      TableName: this.table,
      Keys: [...new Set(roomIds)].map((roomId) => ({ memberKey: person, roomId })),
      ProjectionExpression: 'roomId',
      // A removal deletes the membership in its own step: read now, so a removed person lists nothing of the room.
      ConsistentRead: true,
    });
    return new Set(items.map((item) => String(item.roomId)));
  }
}
