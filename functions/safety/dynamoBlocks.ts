import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SAFETY_LIMITS } from '#protocol';

/**
 * Block lists in DynamoDB (a direct-message room's blocks: dynamoDmBlocks.ts).
 *
 * A member's block list is a partition of the Memberships table of its own, `blocks#<memberKey>` (never a member
 * key, so `myrooms` never reads it), one item per blocked person under its `blockId`: whom (`who`, the identity its
 * messages carry, never shown), the name it showed and when. One Query lists it; a block or unblock is one write.
 */

export interface BlockEntry {
  blockId: string;
  who: string;
  username: string;
  blockedAt: string;
}

export interface BlockStore {
  list(blocker: string): Promise<BlockEntry[]>;
  add(blocker: string, entry: BlockEntry, ttl?: number): Promise<void>;
  /** Removes the entry; the entry it was, or undefined when there was none. */
  remove(blocker: string, blockId: string): Promise<BlockEntry | undefined>;
}

const blockListKey = (memberKey: string) => `blocks#${memberKey}`;

export class DynamoBlockStore implements BlockStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async list(blocker: string): Promise<BlockEntry[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'memberKey = :key',
        ExpressionAttributeValues: { ':key': blockListKey(blocker) },
        Limit: SAFETY_LIMITS.blockedMax + 1,
      }),
    );
    return Items.map((item) => ({
      blockId: String(item.roomId),
      who: String(item.who),
      username: String(item.username),
      blockedAt: String(item.blockedAt),
    }));
  }

  async add(blocker: string, entry: BlockEntry, ttl?: number): Promise<void> {
    const { blockId, ...rest } = entry;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          memberKey: blockListKey(blocker),
          roomId: blockId,
          ...rest,
          ...(ttl !== undefined && { ttl }),
        },
      }),
    );
  }

  async remove(blocker: string, blockId: string): Promise<BlockEntry | undefined> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { memberKey: blockListKey(blocker), roomId: blockId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes
      ? {
          blockId,
          who: String(Attributes.who),
          username: String(Attributes.username),
          blockedAt: String(Attributes.blockedAt),
        }
      : undefined;
  }
}
