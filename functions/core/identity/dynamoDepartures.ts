import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DepartureRecord, DepartureRecords } from './departure';

/**
 * Departure records in the Limits table, one item per signed-in user (`departed#<userId>`): the rooms as a map of
 * room id to the name shown there (≤ 100 rooms, ≤ 14 KB with the longest names), the return's deadline, and a TTL a
 * minute past it so the table sheds it (TTL deletes lazily; the deadline, not the TTL, decides).
 */
export class DynamoDepartureRecords implements DepartureRecords {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly limitsTable: string,
  ) {}

  private key = (userId: string) => ({ limitKey: `departed#${userId}` });

  async put(userId: string, record: DepartureRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.limitsTable,
        Item: {
          ...this.key(userId),
          rooms: Object.fromEntries(record.rooms.map((s) => [s.roomId, s.username])),
          returnBy: record.returnBy,
          ttl: Math.ceil(record.returnBy / 1000) + 60,
        },
      }),
    );
  }

  async latest(userId: string): Promise<DepartureRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.limitsTable, Key: this.key(userId), ConsistentRead: true }),
    );
    const { rooms, returnBy } = Item ?? {};
    // Anything but a record as put here reads as none: the joins are told.
    if (typeof returnBy !== 'number' || typeof rooms !== 'object' || rooms === null) return undefined;
    return {
      returnBy,
      rooms: Object.entries(rooms as Record<string, unknown>)
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .map(([roomId, username]) => ({ roomId, username })),
    };
  }
}
