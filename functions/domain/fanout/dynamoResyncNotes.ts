import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { applied, type FanoutTables } from './dynamoWrites';

/**
 * The resync notes on a room's item (`resyncAfter`, connection id -> afterSeq): members a post could not reach within
 * its retry budget, owed a resync frame with their next successful post (docs/RELIABILITY.md).
 */

/**
 * Resync notes a room's item holds at most (~30 KB of its 400 KB): past it a member gets no note, and finds its gap
 * from the next message's seq instead. Notes of members who left are dropped at the next claim (resyncNotes.ts).
 */
export const MAX_RESYNC_NOTES = 1000;

export class DynamoResyncNotes {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: FanoutTables,
  ) {}

  /** Notes that a connection may have missed the room's messages after `afterSeq` (an earlier note is kept). */
  async markResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET resyncAfter = if_not_exists(resyncAfter, :none)',
          ConditionExpression: 'attribute_exists(roomId)',
          ExpressionAttributeValues: { ':none': {} },
        }),
      ),
    );
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET resyncAfter.#c = :after',
          ConditionExpression:
            '(attribute_not_exists(resyncAfter.#c) AND size(resyncAfter) < :cap) OR resyncAfter.#c > :after',
          ExpressionAttributeNames: { '#c': connectionId },
          ExpressionAttributeValues: { ':after': afterSeq, ':cap': MAX_RESYNC_NOTES },
        }),
      ),
    );
  }

  /** The room's resync notes (connection id -> afterSeq), read consistently: what a repost's members are owed. */
  async resyncNotes(roomId: string): Promise<Record<string, number>> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.rooms,
        Key: { roomId },
        ProjectionExpression: 'resyncAfter',
        ConsistentRead: true,
      }),
    );
    return (Item?.resyncAfter as Record<string, number> | undefined) ?? {};
  }

  /** Forgets a connection's resync note once its resync frame was posted (unless a newer note replaced it). */
  async clearResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'REMOVE resyncAfter.#c',
          ConditionExpression: 'resyncAfter.#c = :after',
          ExpressionAttributeNames: { '#c': connectionId },
          ExpressionAttributeValues: { ':after': afterSeq },
        }),
      ),
    );
  }

  /** Drops the resync notes of these connections (members who left the room), 100 per write. */
  async forgetResync(roomId: string, connectionIds: readonly string[]): Promise<void> {
    for (let i = 0; i < connectionIds.length; i += 100) {
      const ids = connectionIds.slice(i, i + 100);
      await applied(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.rooms,
            Key: { roomId },
            UpdateExpression: `REMOVE ${ids.map((_, n) => `resyncAfter.#c${n}`).join(', ')}`,
            ConditionExpression: 'attribute_exists(resyncAfter)',
            ExpressionAttributeNames: Object.fromEntries(ids.map((id, n) => [`#c${n}`, id])),
          }),
        ),
      );
    }
  }
}
