import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { realPauses, retryingThrottles, type ThrottlePauses } from './dynamoThrottles';
import { applied, type FanoutTables } from './dynamoWrites';

/**
 * The fan-out's resync notes: a member a post could not reach within its retry budget is owed a resync frame ("you
 * may have missed messages after seq n") with its next successful post (docs/RELIABILITY.md). Each note lives on the
 * member's own subscription to the room (`resyncRoom`, `resyncAfter` on the (connection, room) item), never on the
 * room's item: noting a thousand members of a throttled room writes a thousand small items, one each, not one hot
 * item a thousand times. A connection following several rooms keeps one note per room, so notes for two rooms never
 * overwrite each other and showing another room loses none. A room's notes are read through the subscriptions
 * table's sparse ResyncIndex (only noted subscriptions are in it). A note ends with its subscription (a leave, a
 * removal, $disconnect).
 */

/**
 * Notes one cycle reads at most (its state carries them through the state machine, 256 KiB at most): past it, the
 * rest are read by the room's next cycle, and a member finds its gap from the next message's seq meanwhile.
 */
export const MAX_RESYNC_NOTES = 1000;

export class DynamoResyncNotes {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: FanoutTables,
    /** The pauses between reads DynamoDB throttled (a test's own clock). */
    private readonly pauses: ThrottlePauses = realPauses,
  ) {}

  /**
   * Notes that a connection may have missed the room's messages after `afterSeq`, if it still follows the room (its
   * subscription is there and indexed: not deleted, not pruned as gone); an earlier note for the room is kept (it
   * covers this one).
   */
  async markResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.subscriptions,
          Key: { connectionId, roomId },
          UpdateExpression: 'SET resyncRoom = :room, resyncAfter = :after',
          ConditionExpression:
            'attribute_exists(roomKey) AND (attribute_not_exists(resyncAfter) OR resyncAfter > :after)',
          ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
        }),
      ),
    );
  }

  /**
   * The room's resync notes (connection id -> afterSeq), at most MAX_RESYNC_NOTES, from the index of noted
   * subscriptions; each page read again while DynamoDB throttles it (dynamoThrottles.ts), since a chunk's post reads
   * them before it posts.
   */
  async resyncNotes(roomId: string): Promise<Record<string, number>> {
    const index = this.tables.resyncIndex;
    if (!index) throw new Error('the fan-out reads resync notes through RESYNC_INDEX, which is not set');
    const notes: Record<string, number> = {};
    let startKey: Record<string, unknown> | undefined;
    let read = 0;
    do {
      const page = await retryingThrottles(
        () =>
          this.db.send(
            new QueryCommand({
              TableName: this.tables.subscriptions,
              IndexName: index,
              KeyConditionExpression: 'resyncRoom = :room',
              ExpressionAttributeValues: { ':room': roomId },
              Limit: MAX_RESYNC_NOTES - read,
              ExclusiveStartKey: startKey,
            }),
          ),
        this.pauses,
      );
      for (const item of page.Items ?? []) {
        if (typeof item.resyncAfter === 'number') notes[String(item.connectionId)] = item.resyncAfter;
      }
      read += page.Items?.length ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && read < MAX_RESYNC_NOTES);
    return notes;
  }

  /** Forgets a connection's resync note once its resync frame was posted (unless a newer note replaced it). */
  async clearResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.subscriptions,
          Key: { connectionId, roomId },
          UpdateExpression: 'REMOVE resyncRoom, resyncAfter',
          ConditionExpression: 'resyncAfter = :after',
          ExpressionAttributeValues: { ':after': afterSeq },
        }),
      ),
    );
  }
}
