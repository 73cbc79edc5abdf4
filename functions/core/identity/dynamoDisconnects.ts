import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DisconnectCounts } from './grace';

/**
 * `$disconnect` counters in the Limits table, one item per epoch second (`disconnects#<second>`, attribute `closes`),
 * with a TTL a few minutes on: only the last STORM_WINDOW_SECONDS are read (grace.ts), and TTL deletes lazily, so an
 * old item read by chance is outside any window asked for. One key takes a second's closes: 1 WCU each, 500 WCU/s at
 * API Gateway's 500 connections/s, half of a partition's 1,000.
 */
export class DynamoDisconnectCounts implements DisconnectCounts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly limitsTable: string,
  ) {}

  private key = (second: number) => ({ limitKey: `disconnects#${second}` });

  async add(epochSecond: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.limitsTable,
        Key: this.key(epochSecond),
        UpdateExpression: 'ADD closes :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': epochSecond + TTL_SECONDS },
      }),
    );
  }

  /** One BatchGetItem (≤ 100 keys), eventually consistent: a count a moment old sizes a wait of tens of seconds. */
  async read(epochSeconds: readonly number[]): Promise<number[]> {
    const counts = new Map<string, number>();
    let keys: Record<string, unknown>[] | undefined = epochSeconds.map(this.key);
    // Keys DynamoDB leaves unprocessed (throttling) are asked again, a bounded number of times; past them they read 0.
    for (let attempt = 0; keys !== undefined && keys.length > 0 && attempt < READ_ATTEMPTS; attempt++) {
      const answer: Awaited<ReturnType<typeof this.batch>> = await this.batch(keys);
      for (const item of answer.Responses?.[this.limitsTable] ?? [])
        counts.set(String(item.limitKey), typeof item.closes === 'number' ? item.closes : 0);
      keys = answer.UnprocessedKeys?.[this.limitsTable]?.Keys;
    }
    return epochSeconds.map((s) => counts.get(this.key(s).limitKey) ?? 0);
  }

  private batch(keys: Record<string, unknown>[]) {
    return this.db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.limitsTable]: { Keys: keys, ProjectionExpression: 'limitKey, closes' },
        },
      }),
    );
  }
}

/** A counter outlives every window that can read it (STORM_WINDOW_SECONDS) by minutes. */
const TTL_SECONDS = 300;
const READ_ATTEMPTS = 3;
