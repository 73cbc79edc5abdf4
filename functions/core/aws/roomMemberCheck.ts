import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '#platform/aws/batchGet';

/** Which signed-in users are members of a room now: a notice or push of the room goes to them alone. */
export interface RoomMemberCheck {
  /** The users of `userIds` (at most 100) whose membership of `roomId` exists. */
  membersOf(roomId: string, userIds: string[]): Promise<Set<string>>;
}

/**
 * The memberships table read by key, strongly consistent (one BatchGetItem, ≤ 100 keys): a removal or ban deletes
 * the removed person's membership in its own step (rooms/owners.ts), so a mention's notice, a thread's notice and a
 * push stop reaching them at once, whatever the room index or a thread's follower list still holds.
 */
export class DynamoRoomMemberCheck implements RoomMemberCheck {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async membersOf(roomId: string, userIds: string[]): Promise<Set<string>> {
    const unique = [...new Set(userIds)].slice(0, 100);
    if (unique.length === 0) return new Set();
    const items = await batchGetAll(this.db, {
      TableName: this.table,
      Keys: unique.map((memberKey) => ({ memberKey, roomId })),
      ProjectionExpression: 'memberKey',
      ConsistentRead: true,
    });
    return new Set(items.map((item) => String(item.memberKey)));
  }
}
