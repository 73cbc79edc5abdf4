import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import type { DynamoFanoutStore } from './dynamoFanout';

/** What a reservation needs of Deliver's wiring (post.ts's PostDeps has it). */
interface BudgetDeps {
  store: Pick<DynamoFanoutStore, 'reserve' | 'reserveAll'>;
  postsPerSecond: number;
  now: () => number;
  random: () => number;
}

/**
 * How long a chunk waits in Deliver for a second of the account-wide posting budget with room left (FanoutPostsPerSecond).
 * Past it, its members go to the chunk's one repost, and then to a resync note.
 */
export const RESERVE_PATIENCE_MS = 3000;

/**
 * Reserves `posts` in the budget, waiting for up to RESERVE_PATIENCE_MS for a second with room for them; `ceiling`, the
 * share of a second they may fill (BROADCAST_BUDGET_CEILING for an everyone-broadcast, postBudget.ts).
 */
export async function reserve(given: BudgetDeps, posts: number, ceiling = 1): Promise<boolean> {
  const until = given.now() + RESERVE_PATIENCE_MS;
  for (;;) {
    if (
      await reserved(() =>
        given.store.reserve(Math.max(1, posts), given.postsPerSecond, given.now(), ceiling),
      )
    )
      return true;
    metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
    const nextSecond = 1000 - (given.now() % 1000);
    if (given.now() + nextSecond > until) {
      logger.warn('posting budget full: the chunk goes to its repost', { posts });
      return false;
    }
    // Into the next second, spread so the waiting chunks of many rooms do not all retry at its first millisecond.
    await new Promise((resolve) => setTimeout(resolve, nextSecond + given.random() * 100));
  }
}

/**
 * The repost's reservation: all `posts` in this second or none, without waiting (the state machine's Wait before the
 * repost was the wait). Refused or unwritten, its members are noted for a resync.
 */
export function reserveNow(given: BudgetDeps, posts: number, ceiling = 1): Promise<boolean> {
  return reserved(() => given.store.reserveAll(posts, given.postsPerSecond, given.now(), ceiling));
}

/**
 * A reservation's write, where the budget's item failing past its retries (throttled, or held by a transaction each
 * try) counts as no room this second: the chunk goes to its repost, then to a resync note, and the execution
 * goes on. Failing it instead would hold the room's whole batch until the queue's visibility timeout.
 */
async function reserved(write: () => Promise<unknown>): Promise<boolean> {
  try {
    return Boolean(await write());
  } catch (error) {
    logger.warn('posting budget not written: the chunk is treated as over budget', { error });
    return false;
  }
}
