import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';

/** The signed-in connections of one user, without a Scan (template.yaml: the connections table's UserIndex). */
export interface UserDevices {
  /** Connection ids of `userId`'s live connections, at most `limit`. */
  connectionsOf(userId: string, limit: number): Promise<string[]>;
}

/**
 * A user's connections from the connections table's sparse, keys-only user index: only a signed-in connection
 * carries `signedInUserId` (core/aws/connections.ts writes it at $connect), so the index holds nothing else.
 */
export class DynamoUserDevices implements UserDevices {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly userIndex: string,
  ) {}

  async connectionsOf(userId: string, limit: number): Promise<string[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: this.userIndex,
        KeyConditionExpression: 'signedInUserId = :user',
        ExpressionAttributeValues: { ':user': userId },
        Limit: limit,
      }),
    );
    return Items.map((item) => String(item.connectionId));
  }
}
