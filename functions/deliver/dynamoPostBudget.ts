import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { applied, type FanoutTables } from './dynamoWrites';
import { planReservation, type ShardPosts, singleShardPosts } from './postBudget';

/**
 * The account-wide posting budget (FanoutPostsPerSecond) in the Limits table: per second, one counter item per shard
 * (budgetShares, postBudget.ts), reserved by conditional `ADD` and given back when not posted.
 */

/** The budget's counter items outlive their second by a minute (DynamoDB TTL removes them later still). */
const BUDGET_TTL_SECONDS = 60;

/** Posts taken from one second's budget, shard by shard: a refund gives them back where they were taken. */
export interface PostGrant {
  second: number;
  /** Posts taken from each shard (its index in budgetShares). */
  shards: ShardPosts[];
}

export const grantedPosts = (grant: PostGrant | undefined): number =>
  grant?.shards.reduce((n, taken) => n + taken.posts, 0) ?? 0;

const budgetKey = (second: number, shard: number) => `post-budget#${second}#${shard}`;

export class DynamoPostBudget {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: Pick<FanoutTables, 'limits'>,
    /** Picks the budget's shards (a test's own sequence). */
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Reserves `posts` (at most `perSecond`) in the account-wide budget of the second `now` falls in, shared first come
   * first served by every room's cycles: what was taken from which shard, or undefined when it did not fit. As
   * planReservation says: one shard picked at random and, if it has no room, one other picked at random (at most two
   * writes); or an even part from every shard, the parts taken given back if one did not fit. `ceiling` (0 to 1)
   * lets the reservation fill each shard only up to that share of its posts: a lower-priority class's posts
   * (TYPING_BUDGET_CEILING, postBudget.ts) are counted with everyone's but find no room once a second is that full.
   */
  async reserve(posts: number, perSecond: number, now: number, ceiling = 1): Promise<PostGrant | undefined> {
    const second = Math.floor(now / 1000);
    const { shares, wanted, parts } = planReservation(posts, perSecond);
    if (wanted === 0) return { second, shards: [] };
    if (!parts) {
      const first = Math.floor(this.random() * shares.length);
      const tries = [first];
      if (shares.length > 1)
        tries.push((first + 1 + Math.floor(this.random() * (shares.length - 1))) % shares.length);
      for (const shard of tries)
        if (await this.take(second, shard, wanted, Math.floor((shares[shard] as number) * ceiling)))
          return { second, shards: [{ shard, posts: wanted }] };
      return undefined;
    }
    const taken = await Promise.allSettled(
      parts.map((part) =>
        this.take(second, part.shard, part.posts, Math.floor((shares[part.shard] as number) * ceiling)),
      ),
    );
    const grant = {
      second,
      shards: parts.filter((_, i) => taken[i]?.status === 'fulfilled' && taken[i].value),
    };
    if (grant.shards.length === parts.length) return grant;
    await this.refund(grant, 0);
    const failed = taken.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return undefined;
  }

  /**
   * Reserves `posts` as reserve does when they fit one shard, else as several reservations of one shard each, taken
   * at once (one reservation that big takes a part from every shard: a write per shard): a page's worth in a few
   * writes. What was granted, maybe less than asked, as one grant; undefined when nothing was.
   */
  async reserveInParts(
    posts: number,
    perSecond: number,
    now: number,
    ceiling = 1,
  ): Promise<PostGrant | undefined> {
    const most = singleShardPosts(perSecond);
    if (posts <= most) return this.reserve(posts, perSecond, now, ceiling);
    const count = Math.ceil(posts / most);
    const parts = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        this.reserve(Math.floor(posts / count) + (i < posts % count ? 1 : 0), perSecond, now, ceiling),
      ),
    );
    const granted = parts.flatMap((part) => (part.status === 'fulfilled' && part.value ? [part.value] : []));
    const failed = parts.find((part) => part.status === 'rejected');
    if (granted.length === 0 && failed) throw failed.reason;
    return granted.length === 0
      ? undefined
      : { second: (granted[0] as PostGrant).second, shards: granted.flatMap((grant) => grant.shards) };
  }

  /**
   * Reserves all of `posts` or none, in reservations of one shard each (reserveInParts), so that one full shard does
   * not refuse a reservation bigger than a shard takes (an even part from every shard would need room in each).
   */
  async reserveAll(posts: number, perSecond: number, now: number, ceiling = 1): Promise<boolean> {
    const grant = await this.reserveInParts(posts, perSecond, now, ceiling);
    if (grantedPosts(grant) >= Math.min(posts, perSecond)) return true;
    if (grant) await this.refund(grant, 0);
    return false;
  }

  /**
   * Gives back what `grant` took beyond the `kept` posts it covers, to the shards it was taken from, so the second's
   * budget counts only what is posted.
   */
  async refund(grant: PostGrant, kept: number): Promise<void> {
    let back = grantedPosts(grant) - Math.max(0, kept);
    const writes: Promise<boolean>[] = [];
    for (const { shard, posts } of grant.shards) {
      if (back <= 0) break;
      const n = Math.min(back, posts);
      back -= n;
      writes.push(
        applied(() =>
          this.db.send(
            new UpdateCommand({
              TableName: this.tables.limits,
              Key: { limitKey: budgetKey(grant.second, shard) },
              UpdateExpression: 'ADD posts :back',
              ConditionExpression: 'posts >= :n',
              ExpressionAttributeValues: { ':back': -n, ':n': n },
            }),
          ),
        ),
      );
    }
    await Promise.all(writes);
  }

  /** Takes `posts` from one shard of `second` if its count stays within its `share`. */
  private take(second: number, shard: number, posts: number, share: number): Promise<boolean> {
    return applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.limits,
          Key: { limitKey: budgetKey(second, shard) },
          UpdateExpression: 'ADD posts :n SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(posts) OR posts <= :left',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':n': posts,
            ':left': share - posts,
            ':ttl': second + BUDGET_TTL_SECONDS,
          },
        }),
      ),
    );
  }
}
