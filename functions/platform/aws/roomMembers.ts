import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Member } from '../../domain/ports';

/** Where a room's members are found: the Connections table and its index keyed by roomId. */
export interface RoomIndex {
  table: string;
  index: string;
}

/**
 * A room's members, one page of the room index at a time, read only as far as the caller goes on. `pageLimit`, when
 * given, is asked before each page: `Limit` bounds the items a page reads, so a caller that needs only a few members
 * pays for only those.
 */
export async function* roomMemberPages(
  db: DynamoDBDocumentClient,
  where: RoomIndex,
  roomId: string,
  pageLimit?: () => number,
): AsyncGenerator<Member[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: where.table,
        IndexName: where.index,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ProjectionExpression: 'connectionId, username',
        Limit: pageLimit?.(),
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []) as Member[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
