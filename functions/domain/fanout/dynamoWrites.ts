import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

/**
 * What every DynamoDB write of the fan-out's state shares: the tables it names (template.yaml), the room item's
 * fan-out attributes, and `applied`, a conditional write that answers whether its condition held, trying again when
 * it met a send's transaction on the same item.
 */

export interface FanoutTables {
  rooms: string;
  messages: string;
  connections: string;
  /** The connections table's index of a room's members. */
  roomIndex: string;
  limits: string;
  /** The rooms table's sparse index of held leases (leaseShard, leaseUntil): the stranded-room sweep's. */
  leaseIndex?: string;
}

/**
 * The room's item as the fan-out sees it: beside the `seq` its sends count, the delivery cursor `deliveredSeq`
 * (messages up to it are taken by a cycle; unset: none yet), the lease (`leaseOwner`, the execution that holds it;
 * `leaseUntil` epoch ms; `leaseFrom`, where the holder's cycle starts) and the members owed a resync frame
 * (`resyncAfter`, connection id -> afterSeq).
 */
export interface RoomItem {
  roomId: string;
  seq?: number;
  deliveredSeq?: number;
  leaseOwner?: string;
  leaseUntil?: number;
  /** Where the holder's cycle starts: its cycle is the messages after it up to deliveredSeq. */
  leaseFrom?: number;
  resyncAfter?: Record<string, number>;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** A lease write competes with sends' transactions on the room's item: a conflict is tried again a few times. */
const isConflict = (error: unknown) =>
  (error as { name?: string } | undefined)?.name === 'TransactionConflictException';

/** Runs a conditional write: true when it was applied, false when its condition failed. */
export async function applied(write: () => Promise<unknown>): Promise<boolean> {
  for (let conflicts = 0; ; conflicts++) {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      if (!isConflict(error) || conflicts >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * (conflicts + 1)));
    }
  }
}
