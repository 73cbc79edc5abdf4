import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { SAFETY_LIMITS } from '#protocol';

/**
 * Block lists and direct-message blocks in DynamoDB.
 *
 * A member's block list is a partition of the Memberships table of its own, `blocks#<memberKey>` (never a member
 * key, so `myrooms` never reads it), one item per blocked person under its `blockId`: whom (`who`, the identity its
 * messages carry, never shown), the name it showed and when. One Query lists it; a block or unblock is one write.
 *
 * A pair of signed-in users' direct-message room has a blocks item in the Rooms table, `<dmRoomId>#blocks`, the set
 * of those of the two who block the other (`by`): a send into that room and `opendm` read that one item.
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

export interface DmBlocks {
  /** Who of the pair of a direct-message room blocks the other ([] for none). */
  blockers(dmRoomId: string): Promise<string[]>;
  mark(dmRoomId: string, blocker: string, blocking: boolean): Promise<void>;
}

export const blockListKey = (memberKey: string) => `blocks#${memberKey}`;
export const dmBlocksKey = (dmRoomId: string) => `${dmRoomId}#blocks`;

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

export class DynamoDmBlocks implements DmBlocks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async blockers(dmRoomId: string): Promise<string[]> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { roomId: dmBlocksKey(dmRoomId) }, ConsistentRead: true }),
    );
    const by = Item?.by as Set<string> | undefined;
    return by ? [...by] : [];
  }

  async mark(dmRoomId: string, blocker: string, blocking: boolean): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { roomId: dmBlocksKey(dmRoomId) },
        UpdateExpression: blocking ? 'ADD #by :me' : 'DELETE #by :me',
        ExpressionAttributeNames: { '#by': 'by' },
        ExpressionAttributeValues: { ':me': new Set([blocker]) },
      }),
    );
  }
}
