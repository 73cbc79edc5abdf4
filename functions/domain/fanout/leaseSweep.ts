import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { COUNT_RESTART, COUNT_RESTART_VALUES, type Restart, restartOwed } from './restarts';

/**
 * A held lease puts its room in the rooms table's sparse lease index (leaseShard, leaseUntil; KEYS_ONLY): the take
 * sets leaseShard, every release removes it, so the index holds only rooms being delivered now, and the sweep finds
 * the expired ones with one Query per shard, never a Scan. The rooms are spread over LEASE_SHARDS index partitions
 * by a hash of their id, so the lease writes of many busy rooms never meet one partition's write limit.
 */
export const LEASE_SHARDS = 16;

/** The index partition of a room's lease: `lease#0` .. `lease#15`, by an FNV-1a hash of its id. */
export function leaseShardOf(roomId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < roomId.length; i++) hash = Math.imul(hash ^ roomId.charCodeAt(i), 0x01000193);
  return `lease#${(hash >>> 0) % LEASE_SHARDS}`;
}

/** Rooms a sweep looks at per shard at most; the next sweep takes the rest. */
const PER_SHARD = 100;

export interface ExpiredLease {
  roomId: string;
  leaseUntil: number;
}

export class DynamoLeaseSweep {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { rooms: string; leaseIndex: string },
  ) {}

  /** Leases past their time in every shard (the index is eventually consistent: recover checks the item itself). */
  async expired(now: number): Promise<ExpiredLease[]> {
    const shards = Array.from({ length: LEASE_SHARDS }, (_, n) => `lease#${n}`);
    const pages = await Promise.all(
      shards.map((shard) =>
        this.db.send(
          new QueryCommand({
            TableName: this.tables.rooms,
            IndexName: this.tables.leaseIndex,
            KeyConditionExpression: 'leaseShard = :shard AND leaseUntil < :now',
            ExpressionAttributeValues: { ':shard': shard, ':now': now },
            Limit: PER_SHARD,
          }),
        ),
      ),
    );
    return pages.flatMap((page) => (page.Items ?? []) as ExpiredLease[]);
  }

  /**
   * Frees a dead holder's lease as an abandon does: the cursor goes back to its cycle's start (its members may have
   * had part of it: clients drop a seq they hold) and the lease is removed, only if it is still the expired lease the
   * index showed (a claim that took it over since changed leaseUntil). Answers whether a successor should deliver
   * what is left: up to MAX_RESTARTS per newest event (restarts.ts), so a holder that dies again and again on the same
   * message does not restart without end. Undefined when the lease was not this one to free.
   */
  async recover(roomId: string, leaseUntil: number, now: number): Promise<Restart | undefined> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: `SET deliveredSeq = leaseFrom, ${COUNT_RESTART} REMOVE leaseOwner, leaseUntil, leaseFrom, leaseShard`,
          ConditionExpression: 'leaseUntil = :seen AND leaseUntil < :now AND attribute_exists(leaseFrom)',
          ExpressionAttributeValues: { ':seen': leaseUntil, ':now': now, ...COUNT_RESTART_VALUES },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return restartOwed(Attributes ?? {});
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }
}
