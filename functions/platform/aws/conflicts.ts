/** How many times a single-item write is tried when each attempt meets a transaction on its item. */
const TRIES = 8;

/**
 * Runs a single-item write again when DynamoDB refused it because a transaction held its item
 * (TransactionConflictException: nothing was written; the SDK does not retry it). On a room's item that is a send's
 * transaction, which ends within milliseconds, but a room that members keep joining holds it in one transaction after
 * another: full-jitter pauses up to 40, 80 … 1,000 ms (about 3 s in all) let the write through, where a busy room
 * would otherwise fail an owner's request.
 */
export async function retryingConflicts<T>(
  write: () => Promise<T>,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionConflictException' || attempt >= TRIES)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, random() * Math.min(1000, 20 * 2 ** attempt)));
    }
  }
}
