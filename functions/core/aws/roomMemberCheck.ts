import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '#platform/aws/batchGet';
import { isNoticeChoice, type NoticeChoice } from '#protocol';

/** Which signed-in users are members of a room now: a notice or push of the room goes to them alone. */
export interface RoomMemberCheck {
  /** The users of `userIds` (at most 100) whose membership of `roomId` exists. */
  membersOf(roomId: string, userIds: string[]): Promise<Set<string>>;
}

/** Which of some users are members of a room now, each with the notices they chose there (`setnotices`). */
export interface RoomNoticeCheck {
  /** The users of `userIds` (at most 100) whose membership of `roomId` exists, each with its notices ('all' if none kept). */
  noticesOf(roomId: string, userIds: string[]): Promise<Map<string, NoticeChoice>>;
}

/**
 * The memberships table read by key, strongly consistent (one BatchGetItem, ≤ 100 keys): a removal or ban deletes
 * the removed person's membership in its own step (moderation/owners.ts), so a mention's notice, a thread's notice and a
 * push stop reaching them at once, whatever the room index or a thread's follower list still holds.
 */
export class DynamoRoomMemberCheck implements RoomMemberCheck, RoomNoticeCheck {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async membersOf(roomId: string, userIds: string[]): Promise<Set<string>> {
    return new Set((await this.noticesOf(roomId, userIds)).keys());
  }

  async noticesOf(roomId: string, userIds: string[]): Promise<Map<string, NoticeChoice>> {
    const unique = [...new Set(userIds)].slice(0, 100);
    if (unique.length === 0) return new Map();
    const items = await batchGetAll(this.db, {
      TableName: this.table,
      Keys: unique.map((memberKey) => ({ memberKey, roomId })),
      ProjectionExpression: 'memberKey, notices',
      ConsistentRead: true,
    });
    return new Map(
      items.map((item) => [String(item.memberKey), isNoticeChoice(item.notices) ? item.notices : 'all']),
    );
  }
}
