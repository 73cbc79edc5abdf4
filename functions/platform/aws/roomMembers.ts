import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Member } from '../../domain/ports';

/** A room's members are found in the Connections table through its index keyed by roomId. */
export interface RoomOnIndex {
  table: string;
  index: string;
  roomId: string;
}

/**
 * A room's members, one page of the room index at a time, read only as far as the caller goes on. `pageLimit`, when
 * given, is asked before each page: `Limit` bounds the items a page reads, so a caller that needs only a few members
 * pays for only those.
 */
export async function* roomMemberPages(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  pageLimit?: () => number,
): AsyncGenerator<Member[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: room.table,
        IndexName: room.index,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': room.roomId },
        ProjectionExpression: 'connectionId, username',
        Limit: pageLimit?.(),
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []) as Member[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
