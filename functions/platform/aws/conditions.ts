import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/** Whether DynamoDB refused a write's condition (by class, or by name where another copy of the SDK threw it). */
export const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** Whether a conditional write happened: false when DynamoDB refused its condition, any other error thrown. */
export async function applied(write: Promise<unknown>): Promise<boolean> {
  return (await unlessRefused(write.then(() => true))) ?? false;
}

/** What a conditional write returned, or undefined when DynamoDB refused its condition; any other error thrown. */
export async function unlessRefused<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/**
 * The codes of a cancelled transaction's reasons, one per item in request order (`None` for an item that did not
 * fail: `ConditionalCheckFailed`, `TransactionConflict`, `ThrottlingError` …); undefined for any other error.
 */
export function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  const { name, CancellationReasons } = (error ?? {}) as {
    name?: string;
    CancellationReasons?: ({ Code?: string } | null)[];
  };
  if (name !== 'TransactionCanceledException') return undefined;
  return (CancellationReasons ?? []).map((reason) => reason?.Code);
}
