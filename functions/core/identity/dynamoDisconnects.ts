import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DisconnectCounts } from './grace';

/**
 * `$disconnect` counters in the Limits table: per epoch second, COUNTER_SHARDS items (`disconnects#<second>#<shard>`,
 * attribute `closes`), each close added to one at random, with a TTL a few minutes on: only the last
 * STORM_WINDOW_SECONDS are read (grace.ts), and TTL deletes lazily, so an old item read by chance is outside any
 * window asked for. A close is 1 WCU; a dropped stack's `$disconnect`s come at Lambda's pace, not the connect rate,
 * and the shards take 10,000 a second before one key reaches a partition's 1,000 WCU/s.
 */
export class DynamoDisconnectCounts implements DisconnectCounts {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly limitsTable: string,
  ) {}

  /** The last window read and its counts: one read per container per second, however many settles ask. */
  private cached: { seconds: string; counts: number[] } | undefined;

  private key = (second: number, shard: number) => ({ limitKey: `disconnects#${second}#${shard}` });

  async add(epochSecond: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.limitsTable,
        Key: this.key(epochSecond, Math.floor(Math.random() * COUNTER_SHARDS)),
        UpdateExpression: 'ADD closes :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': epochSecond + TTL_SECONDS },
      }),
    );
  }

  /**
   * One BatchGetItem of every shard of the seconds (10 × 10 = its 100 keys at most), eventually consistent: a count
   * a moment old sizes a wait of tens of seconds. The same seconds asked again (the window only moves each second)
   * are answered from the last read.
   */
  async read(epochSeconds: readonly number[]): Promise<number[]> {
    const asked = epochSeconds.join(',');
    if (this.cached?.seconds === asked) return this.cached.counts;
    const closes = new Map<number, number>();
    let keys: Record<string, unknown>[] | undefined = epochSeconds.flatMap((second) =>
      Array.from({ length: COUNTER_SHARDS }, (_, shard) => this.key(second, shard)),
    );
    // Keys DynamoDB leaves unprocessed (throttling) are asked again, a bounded number of times; past them they read 0.
    for (let attempt = 0; keys !== undefined && keys.length > 0 && attempt < READ_ATTEMPTS; attempt++) {
      const answer: Awaited<ReturnType<typeof this.batch>> = await this.batch(keys);
      for (const item of answer.Responses?.[this.limitsTable] ?? []) {
        const second = Number(String(item.limitKey).split('#')[1]);
        if (typeof item.closes === 'number') closes.set(second, (closes.get(second) ?? 0) + item.closes);
      }
      keys = answer.UnprocessedKeys?.[this.limitsTable]?.Keys;
    }
    const counts = epochSeconds.map((second) => closes.get(second) ?? 0);
    this.cached = { seconds: asked, counts };
    return counts;
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
/** Items per second's count: a hot second takes 10 × 1,000 WCU/s, and a window's 10 s × 10 fill one BatchGetItem. */
const COUNTER_SHARDS = 10;
