import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '#platform/aws/batchGet';
import type { Profile } from '#protocol';
import type { ProfileReader } from '../profiles';

/**
 * Profiles as find people and `history` show them: the `profile#<userId>` items of the DirectoryTable (written by
 * setprofile, functions/profiles/profiles.ts), read in one BatchGetItem per 100 users (find people asks for at most
 * 20, a history page for at most its 100 messages' authors).
 */
export class DynamoProfiles implements ProfileReader {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async of(userIds: string[]): Promise<Map<string, Profile>> {
    const unique = [...new Set(userIds)];
    const items: Profile[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      const read = await batchGetAll(this.db, {
        TableName: this.table,
        Keys: unique
          .slice(i, i + 100)
          .map((userId) => ({ listKey: `profile#${userId}`, entryKey: 'profile' })),
        ProjectionExpression: 'userId, displayName, #status, avatar',
        ExpressionAttributeNames: { '#status': 'status' },
      });
      items.push(...(read as unknown as Profile[]));
    }
    return new Map(items.map((p) => [p.userId, p]));
  }
}
