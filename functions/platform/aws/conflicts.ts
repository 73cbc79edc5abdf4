import { cancellationCodes } from './conditions';

/** How many times a single-item write is tried when each attempt meets a transaction on its item. */
const TRIES = 8;

/**
 * Whether DynamoDB refused a write, writing nothing, because another transaction held one of its items: a single-item
 * write's TransactionConflictException, or a transaction cancelled with a `TransactionConflict` reason.
 */
export function isTransactionConflict(error: unknown): boolean {
  if ((error as { name?: string } | null | undefined)?.name === 'TransactionConflictException') return true;
  return cancellationCodes(error)?.includes('TransactionConflict') ?? false;
}

/**
 * Runs a write again when DynamoDB refused it because a transaction held one of its items (isTransactionConflict:
 * nothing was written; the SDK does not retry it). Such transactions end within milliseconds, but an item may meet
 * one after another (a room's gates while members keep joining): full-jitter pauses up to 40, 80 … 1,000 ms (about
 * 3 s in all) let the write through, where a busy room would otherwise fail an owner's request.
 */
export async function retryingConflicts<T>(
  write: () => Promise<T>,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, random() * Math.min(1000, 20 * 2 ** attempt)));
    }
  }
}
