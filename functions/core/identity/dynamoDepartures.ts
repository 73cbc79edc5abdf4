import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '#platform/aws/conditions';
import type { DepartureRecord, DepartureRecords } from './departure';

/**
 * Departure records in the Limits table, one item per signed-in user (`departed#<userId>`): the departure's id, the
 * rooms as a map of room id to the name shown there (≤ 100 rooms, ≤ 14 KB with the longest names), `openUntil`,
 * `settled` once its machine settled it, and a TTL a minute past `openUntil` so the table sheds it (TTL deletes
 * lazily; `settled` and `openUntil`, not the TTL, decide).
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
          departureId: record.departureId,
          rooms: Object.fromEntries(record.rooms.map((s) => [s.roomId, s.username])),
          openUntil: record.openUntil,
          ttl: Math.ceil(record.openUntil / 1000) + 60,
        },
      }),
    );
  }

  async latest(userId: string): Promise<DepartureRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.limitsTable, Key: this.key(userId), ConsistentRead: true }),
    );
    const { departureId, rooms, openUntil, settled } = Item ?? {};
    // Anything but a record as put here reads as none: the joins are told.
    if (typeof departureId !== 'string' || typeof openUntil !== 'number') return undefined;
    if (typeof rooms !== 'object' || rooms === null) return undefined;
    return {
      departureId,
      openUntil,
      ...(settled === true && { settled: true }),
      rooms: Object.entries(rooms as Record<string, unknown>)
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .map(([roomId, username]) => ({ roomId, username })),
    };
  }

  async settle(userId: string, departureId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(userId),
          UpdateExpression: 'SET settled = :yes',
          ConditionExpression: 'departureId = :id',
          ExpressionAttributeValues: { ':yes': true, ':id': departureId },
        }),
      );
    } catch (error) {
      // Replaced by a later close's record (open until its own settle), or never written: nothing to close.
      if (!isConditionFailure(error)) throw error;
    }
  }
}
