import { logger } from '#platform/powertools';
import { Busy, busyFrom } from './errors';

/**
 * Runs a step of an append, or a read beside one (a send's, a change's, a thread's); a limit that outlasted the
 * retries becomes Busy (retry with the same clientMsgId, which stores nothing twice), logged with the room and the
 * limit met: DynamoDB throttling past the SDK's retries, or an item held by other transactions past
 * retryingConflicts' tries (the room's item by an owner's change).
 */
export async function orBusy<T>(step: Promise<T>, roomId: string): Promise<T> {
  try {
    return await step;
  } catch (error) {
    const busy = busyFrom(error);
    if (!busy || error instanceof Busy) throw error;
    logger.warn(`room at a limit: ${busy.limit}`, {
      limit: busy.limit,
      roomId,
      error: (error as Error).name,
    });
    throw busy;
  }
}
