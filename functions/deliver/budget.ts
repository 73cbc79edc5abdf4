import { grantedPosts, type PostGrant } from '../domain/fanout/dynamoFanout';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import type { CycleDeps } from './steps';

/**
 * The account-wide post budget as the cycle's steps use it: posts reserved ahead of the posts they cover, given back
 * when not needed, and what a room's next claim in this environment reserves ahead (CycleDeps.reserveAhead).
 */

/**
 * How long a chunk waits in Deliver for a second of the budget with room left. Its room's lease is held meanwhile, so
 * the room's new messages gather for its next cycle; past it, the chunk's members are owed the cycle and retried.
 */
const RESERVE_PATIENCE_MS = 3000;

/** Rooms whose member count an environment keeps for its next claim's reservation (a few bytes each). */
const REMEMBERED_ROOMS = 1000;

/** Posts reserved in the budget ahead of the posts they cover: the second and shards they were taken from. */
export type Held = PostGrant | undefined;

/** Reserves `posts` in the budget, waiting for up to RESERVE_PATIENCE_MS for a second with room for them. */
export async function reserve(given: CycleDeps, posts: number): Promise<boolean> {
  const until = given.now() + RESERVE_PATIENCE_MS;
  for (;;) {
    if (await given.store.reserve(Math.max(1, posts), given.postsPerSecond, given.now())) return true;
    metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
    const nextSecond = 1000 - (given.now() % 1000);
    if (given.now() + nextSecond > until) return false;
    // Into the next second, spread so the waiting cycles of many rooms do not all retry at its first millisecond.
    await new Promise((resolve) => setTimeout(resolve, nextSecond + given.random() * 100));
  }
}

/** Gives back what `held` reserved beyond `kept` posts; a failure only leaves the budget stricter than needed. */
export async function giveBack(given: CycleDeps, held: Held, kept: number): Promise<void> {
  if (!held || grantedPosts(held) <= kept) return;
  try {
    await given.store.refund(held, kept);
  } catch (error) {
    logger.warn('reserved posts not given back', { error });
  }
}

/** Notes what a room's next claim here reserves, forgetting the room claimed longest ago past REMEMBERED_ROOMS. */
export function remember(given: CycleDeps, roomId: string, posts: number): void {
  given.reserveAhead.delete(roomId);
  given.reserveAhead.set(roomId, posts);
  if (given.reserveAhead.size > REMEMBERED_ROOMS) {
    const oldest = given.reserveAhead.keys().next().value;
    if (oldest !== undefined) given.reserveAhead.delete(oldest);
  }
}
