import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { GuardStore } from '../guard';
import type { Connection } from '../ports';

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * The guard's counters in DynamoDB: the frame window (`frameWindow`, `frameCount`) and `strikes` on the connection
 * item, each one conditional UpdateItem; the join-guess buckets of sources in the Limits table
 * (`fullAt`, guard.ts), with a TTL.
 */
export class DynamoGuardStore implements GuardStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly connectionsTable: string,
    /** Only the function that counts join guesses (joinroom) is given the Limits table. */
    private readonly limitsTable: string | undefined,
  ) {}

  async countFrame(
    connectionId: string,
    window: number,
    limit: number,
  ): Promise<{ admitted: boolean; connection: Connection } | undefined> {
    // The usual case first: one more frame in the current window. Then a new window. If another frame of the same
    // connection opened that window in between (frames of one connection run in parallel), one more frame in it
    // after all. Each is one conditional write; the first that succeeds admits the frame.
    const inWindow = {
      UpdateExpression: 'SET frameCount = frameCount + :one',
      ConditionExpression: 'frameWindow = :w AND frameCount < :limit',
      ExpressionAttributeValues: { ':one': 1, ':w': window, ':limit': limit },
    };
    const newWindow = {
      UpdateExpression: 'SET frameWindow = :w, frameCount = :one',
      ConditionExpression:
        'attribute_exists(connectionId) AND (attribute_not_exists(frameWindow) OR frameWindow < :w)',
      ExpressionAttributeValues: { ':one': 1, ':w': window },
    };
    let old: Record<string, unknown> | undefined;
    for (const attempt of [inWindow, newWindow, inWindow]) {
      // The current window exists and is full: neither a new window nor a second try can admit the frame.
      if (attempt === newWindow && old?.frameWindow === window) break;
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.connectionsTable,
            Key: { connectionId },
            ...attempt,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { admitted: true, connection: Attributes as Connection };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // DynamoDB returns the item with the failure; a store that does not (dynalite) is asked once more.
        old = (error as { Item?: Record<string, unknown> }).Item;
      }
    }
    old ??= (await this.db.send(new GetCommand({ TableName: this.connectionsTable, Key: { connectionId } })))
      .Item;
    return old ? { admitted: false, connection: old as unknown as Connection } : undefined;
  }

  async strike(connectionId: string): Promise<number> {
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.connectionsTable,
        Key: { connectionId },
        UpdateExpression: 'ADD strikes :one',
        ConditionExpression: 'attribute_exists(connectionId)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.strikes ?? 0);
  }

  private limits(): string {
    if (!this.limitsTable)
      throw new Error('roomcast configuration: environment variable LIMITS_TABLE is not set');
    return this.limitsTable;
  }

  async guessesFullAt(bucket: string): Promise<number | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.limits(),
        Key: { limitKey: `join#${bucket}` },
        ProjectionExpression: 'fullAt',
        ConsistentRead: true,
      }),
    );
    return typeof Item?.fullAt === 'number' ? Item.fullAt : undefined;
  }

  async spendGuess(bucket: string, nowMs: number, intervalMs: number): Promise<number> {
    const Key = { limitKey: `join#${bucket}` };
    // An idle bucket (none yet, or full again) starts from now: one conditional write. Otherwise `fullAt` only ever
    // grows, so adding the interval to whatever is stored is right without reading it first, however many failed
    // joins of the source arrive at once. The TTL is the time the bucket is full again: deleting it then changes
    // nothing, and a source that owes guesses keeps its item until it has waited them out.
    try {
      const fullAt = nowMs + intervalMs;
      await this.db.send(
        new UpdateCommand({
          TableName: this.limits(),
          Key,
          UpdateExpression: 'SET fullAt = :fullAt, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(fullAt) OR fullAt < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':fullAt': fullAt, ':now': nowMs, ':ttl': Math.ceil(fullAt / 1000) },
        }),
      );
      return fullAt;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const { Attributes } = await this.db.send(
      new UpdateCommand({
        TableName: this.limits(),
        Key,
        UpdateExpression: 'ADD fullAt :interval',
        ExpressionAttributeValues: { ':interval': intervalMs },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const fullAt = Number(Attributes?.fullAt);
    const ttl = Math.ceil(fullAt / 1000);
    if (!(Number(Attributes?.ttl) >= ttl)) {
      // The TTL only moves later; a concurrent spend that already moved it further wins.
      await this.db
        .send(
          new UpdateCommand({
            TableName: this.limits(),
            Key,
            UpdateExpression: 'SET #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#ttl) OR #ttl < :ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':ttl': ttl },
          }),
        )
        .catch((error) => {
          if (!isConditionFailure(error)) throw error;
        });
    }
    return fullAt;
  }
}
