import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '#protocol';

/**
 * Profiles as find people shows them: the `profile#<userId>` items of the DirectoryTable (written by setprofile,
 * functions/rooms/directory.ts), read for one page of people in one BatchGetItem (at most 20 keys).
 */
export class DynamoProfiles {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async of(userIds: string[]): Promise<Map<string, Profile>> {
    if (userIds.length === 0) return new Map();
    const { Responses } = await this.db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.table]: {
            Keys: userIds.map((userId) => ({ listKey: `profile#${userId}`, entryKey: 'profile' })),
            ProjectionExpression: 'userId, displayName, #status',
            ExpressionAttributeNames: { '#status': 'status' },
          },
        },
      }),
    );
    const items = (Responses?.[this.table] ?? []) as Profile[];
    return new Map(items.map((p) => [p.userId, p]));
  }
}
