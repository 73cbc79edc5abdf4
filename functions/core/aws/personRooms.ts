import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PersonRooms } from '#core/identity/departure';
import type { Subscribed } from '#core/ports';
import { subscribedRooms } from './subscriptions';

/**
 * Where a signed-in user is now (departure.ts): its live connections from the connections table's sparse, keys-only
 * user index (one Query page of at most `devices`), then each one's rooms (one Query of its partition of the
 * subscriptions table). The index is read eventually consistent: a connection made within the last moment may be
 * missed, which the departure's pause (seconds) makes moot.
 */
export class DynamoPersonRooms implements PersonRooms {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { connections: string; userIndex: string; subscriptions: string },
  ) {}

  async roomsOf(userId: string, devices: number): Promise<Subscribed[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.tables.connections,
        IndexName: this.tables.userIndex,
        KeyConditionExpression: 'signedInUserId = :user',
        ExpressionAttributeValues: { ':user': userId },
        Limit: devices,
      }),
    );
    const rooms = await Promise.all(
      Items.map((item) => subscribedRooms(this.db, this.tables.subscriptions, String(item.connectionId))),
    );
    return rooms.flat();
  }
}
