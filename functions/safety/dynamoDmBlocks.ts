import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Direct-message blocks in DynamoDB. A pair of signed-in users' direct-message room has a blocks item in the Rooms
 * table, `<dmRoomId>#blocks`, the set of those of the two who block the other (`by`): a send into that room and
 * `opendm` read that one item. Apart from the block lists (dynamoBlocks.ts): the messages and people functions
 * bundle this adapter and no other of the safety feature's stores.
 */

export interface DmBlocks {
  /** Who of the pair of a direct-message room blocks the other ([] for none). */
  blockers(dmRoomId: string): Promise<string[]>;
  mark(dmRoomId: string, blocker: string, blocking: boolean): Promise<void>;
}

const dmBlocksKey = (dmRoomId: string) => `${dmRoomId}#blocks`;

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
