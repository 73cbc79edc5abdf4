/**
 * How the fan-out's account-wide posting budget (FanoutPostsPerSecond) is kept in DynamoDB: each second's budget is
 * split in shards, one counter item each, and a reservation takes its posts from one shard or, if large, from all.
 * Pure arithmetic, shared by the store (functions/deliver/dynamoPostBudget.ts) and the cost model.
 */

/**
 * The posts one shard of a second's budget holds at most. DynamoDB takes at most 1,000 write units per second on one
 * item's key (developer guide, "Service, account, and table quotas": partition throughput). A shard grants at most its
 * share, so even reservations of one post each write a shard at most this often per second when granted; the other
 * half is left for the conditional writes that fail (they consume a unit as well), second tries and refunds.
 */
const POSTS_PER_SHARD = 500;

/**
 * Each shard's share of a second's budget: ceil(perSecond / POSTS_PER_SHARD) shards (at least 1) summing to perSecond.
 * Exported for tests: postBudget.test.ts checks the split and each shard's grant.
 */
export function budgetShares(perSecond: number): number[] {
  const budget = Math.max(1, Math.floor(perSecond));
  const count = Math.ceil(budget / POSTS_PER_SHARD);
  const base = Math.floor(budget / count);
  // The remainder goes one post each to the first shards.
  return Array.from({ length: count }, (_, shard) => base + (shard < budget % count ? 1 : 0));
}

/**
 * Typing's place in the budget: the lowest. A typing relay's posts are counted in the same per-second shard counters
 * as every fan-out post, but taken only while the shard stays within this share of its posts (a fan-out chunk may
 * fill it whole). A second whose budget is half taken relays no typing (the heartbeat is dropped: typing is
 * ephemeral, the next heartbeat or the receivers' expiry makes up for it), so the posts typing takes never leave a
 * room's messages, presence or reads less than half of any second's budget, and under the load that fills the
 * budget typing gives way at once instead of waiting or retrying.
 */
export const TYPING_BUDGET_CEILING = 0.5;

/**
 * The everyone-broadcast's place in the budget: below a room's. Its chunks (statemachines/broadcast.asl.json, a Scan
 * of every connection) are counted in the same shard counters but taken only while the shard stays within this share
 * of its posts, so a broadcast to 100,000 connections paces itself at half the account's posting rate and never
 * leaves a room's messages, presence or reads less than half of any second's budget: a room's chunk may fill a
 * second whole, a broadcast never more than half of it.
 */
export const BROADCAST_BUDGET_CEILING = 0.5;

/** Posts taken from one shard of a second's budget. */
export interface ShardPosts {
  shard: number;
  posts: number;
}

/**
 * How a reservation of `posts` is taken from a budget of `perSecond`: `wanted` (capped at the budget) from one shard,
 * or, when `parts` is set, that many from each of those shards, all or none. One shard takes up to half the smallest
 * share, so a reservation fits any shard at most half full (the store tries a second shard if the first is fuller).
 * A bigger one (a chunk of hundreds of posts: few per second, so few writes to each item) takes an even part from
 * every shard, the remainder on the first shards as the shares have it, so no part exceeds its shard's share.
 */
export function planReservation(
  posts: number,
  perSecond: number,
): { shares: number[]; wanted: number; parts?: ShardPosts[] } {
  const shares = budgetShares(perSecond);
  const wanted = Math.min(Math.max(0, posts), perSecond);
  if (wanted <= singleShardPosts(perSecond)) return { shares, wanted };
  const parts = shares
    .map((_, shard) => ({
      shard,
      posts: Math.floor(wanted / shares.length) + (shard < wanted % shares.length ? 1 : 0),
    }))
    .filter((part) => part.posts > 0);
  return { shares, wanted, parts };
}

/** The most posts a reservation takes from one shard (planReservation): half the smallest share, or the one share. */
export function singleShardPosts(perSecond: number): number {
  const shares = budgetShares(perSecond);
  return shares.length === 1 ? (shares[0] as number) : Math.floor((shares[shares.length - 1] as number) / 2);
}

/** The writes a granted reservation of `posts` takes at least: one, or one per shard it is spread over. */
export const reservationWrites = (posts: number, perSecond: number): number =>
  planReservation(posts, perSecond).parts?.length ?? 1;
