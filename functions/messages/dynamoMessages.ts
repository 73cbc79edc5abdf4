import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { isGapMarker } from '#core/gaps';
import type { ChatMessage } from '#core/protocol';
import { toMessage } from '#core/storedItems';
import { readPins } from '#pins/dynamoPins';
import { batchGetAll } from '#platform/aws/batchGet';
import type { Pin } from '#protocol';
import { readReactions } from './dynamoReactions';
import type { MessageStore, ReactionState } from './ports';

/** Items one page of a message query reads while it passes expired messages not yet deleted. */
const MAX_EXPIRED_PAGE = 1000;

/**
 * The DynamoDB adapter of MessageStore: a room's history, read around messages past their TTL, and its messages'
 * reactions (the Reactions table).
 */
export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly reactionsTable: string,
  ) {}

  pins(roomId: string): Promise<Pin[]> {
    return readPins(this.db, this.table, roomId);
  }

  reactions(roomId: string, seqs: readonly number[], viewer: string): Promise<Map<number, ReactionState>> {
    return readReactions(this.db, this.reactionsTable, roomId, seqs, viewer);
  }

  async after(
    roomId: string,
    afterSeq: number,
    limit: number,
    nowSeconds: number,
    gaps?: number[],
  ): Promise<ChatMessage[]> {
    return this.live(
      {
        KeyConditionExpression: 'roomId = :room AND seq > :after',
        ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
      },
      limit,
      nowSeconds,
      gaps,
    );
  }

  async before(
    roomId: string,
    beforeSeq: number,
    limit: number,
    nowSeconds: number,
    gaps?: number[],
  ): Promise<ChatMessage[]> {
    const newestFirst = await this.live(
      {
        KeyConditionExpression: 'roomId = :room AND seq < :before',
        ExpressionAttributeValues: { ':room': roomId, ':before': beforeSeq },
        ScanIndexForward: false,
      },
      limit,
      nowSeconds,
      gaps,
    );
    return newestFirst.reverse();
  }

  async latest(roomId: string, limit: number, nowSeconds: number, gaps?: number[]): Promise<ChatMessage[]> {
    const newestFirst = await this.live(
      {
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ScanIndexForward: false,
      },
      limit,
      nowSeconds,
      gaps,
    );
    return newestFirst.reverse();
  }

  async quoted(
    roomId: string,
    seqs: readonly number[],
    nowSeconds: number,
  ): Promise<Map<number, { text: string; deleted: boolean }>> {
    const found = new Map<number, { text: string; deleted: boolean }>();
    if (seqs.length === 0) return found;
    const items = await batchGetAll(this.db, {
      TableName: this.table,
      Keys: seqs.map((seq) => ({ roomId, seq })),
      ProjectionExpression: 'seq, #text, deleted, #change, gap, #ttl',
      ExpressionAttributeNames: { '#text': 'text', '#change': 'change', '#ttl': 'ttl' },
    });
    for (const item of items) {
      if (item.change !== undefined || isGapMarker(item)) continue;
      if (typeof item.ttl === 'number' && item.ttl <= nowSeconds) continue;
      found.set(Number(item.seq), { text: String(item.text ?? ''), deleted: item.deleted !== undefined });
    }
    return found;
  }

  /**
   * Up to `limit` items of the query whose TTL has not passed. DynamoDB applies `Limit` before the filter, so
   * expired items (not yet deleted) can fill a page. A message expires after every older one (its TTL is its send
   * time plus the retention, MessageRetentionDays; gap markers are left out as read), so going back in time (`ScanIndexForward: false`) the first
   * expired item ends the search; going forward, the expired ones come first and the query reads on past them, in
   * pages that grow. The gap markers read are told to `gaps`.
   */
  private async live(
    query: {
      KeyConditionExpression: string;
      ExpressionAttributeValues: Record<string, unknown>;
      ScanIndexForward?: boolean;
    },
    limit: number,
    nowSeconds: number,
    gaps?: number[],
  ): Promise<ChatMessage[]> {
    const backwards = query.ScanIndexForward === false;
    const found: ChatMessage[] = [];
    let start: Record<string, unknown> | undefined;
    let pageLimit = limit;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          ...query,
          FilterExpression: 'attribute_not_exists(#ttl) OR #ttl > :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ...query.ExpressionAttributeValues, ':now': nowSeconds },
          Limit: pageLimit,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      const read = page.Items ?? [];
      // A gap marker holds a seq that was taken and never stored (core/gaps.ts): history has nothing under it.
      const items = read.filter((item) => !isGapMarker(item));
      if (gaps) for (const item of read) if (isGapMarker(item)) gaps.push(Number(item.seq));
      found.push(...items.slice(0, limit - found.length).map(toMessage));
      const sawExpired = (page.ScannedCount ?? read.length) > read.length;
      if (backwards && sawExpired) break;
      start = page.LastEvaluatedKey;
      // A page of expired items only: the live ones are further on; read larger pages to reach them sooner.
      pageLimit = items.length === 0 ? Math.min(pageLimit * 4, MAX_EXPIRED_PAGE) : limit - found.length;
    } while (start !== undefined && found.length < limit);
    return found;
  }
}
