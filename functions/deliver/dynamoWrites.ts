import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { retryingConflicts } from '#platform/aws/conflicts';

/**
 * What every DynamoDB write of the fan-out's own state shares: the tables it names (template.yaml), and `applied`, a
 * conditional write that answers whether its condition held, trying again when it met a transaction on the same item.
 */

export interface FanoutTables {
  /** The subscriptions table: a member's resync note is on its subscription to the room (dynamoResyncNotes.ts). */
  subscriptions: string;
  limits: string;
  /** The subscriptions table's sparse index of resync notes (resyncRoom): Prepare's read of a room's notes. */
  resyncIndex?: string;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * Runs a conditional write: true when it was applied, false when its condition failed. A write that meets a
 * transaction on its item (TransactionConflictException: nothing written) is tried again with full-jitter pauses up
 * to a second (retryingConflicts, 8 tries), as the send path's writes are: a fan-out step that gave up sooner failed
 * its execution, and the room's batch then waited out the queue's visibility timeout before anyone got it live.
 */
export function applied(write: () => Promise<unknown>): Promise<boolean> {
  return retryingConflicts(async () => {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  });
}
