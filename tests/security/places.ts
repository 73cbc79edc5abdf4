import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalCloud } from '../../tools/local/cloud';
import { adminDynamo } from '../helpers/localCloud';

/**
 * Makes the places of `source` `ms` older, as if that long had passed since they were claimed: $connect compares
 * each place's claim time (its value in the source's item of the Limits table) with its own clock, so moving the
 * stored times back stands in for waiting. Returns how many places the source held.
 */
export async function agePlaces(cloud: LocalCloud, source: string, ms: number): Promise<number> {
  const db = DynamoDBDocumentClient.from(adminDynamo(cloud));
  try {
    const TableName = cloud.template.tables().find((t) => t.logicalId === 'LimitsTable')?.TableName;
    const Key = { limitKey: `connections#${source}` };
    const { Item } = await db.send(new GetCommand({ TableName, Key, ConsistentRead: true }));
    const places = (Item?.places ?? {}) as Record<string, number>;
    const ids = Object.keys(places);
    if (ids.length === 0) return 0;
    await db.send(
      new UpdateCommand({
        TableName,
        Key,
        UpdateExpression: `SET ${ids.map((_, i) => `places.#c${i} = :aged${i}`).join(', ')}`,
        ConditionExpression: ids.map((_, i) => `places.#c${i} = :claimed${i}`).join(' AND '),
        ExpressionAttributeNames: Object.fromEntries(ids.map((id, i) => [`#c${i}`, id])),
        ExpressionAttributeValues: Object.fromEntries(
          ids.flatMap((id, i) => [
            [`:aged${i}`, (places[id] ?? 0) - ms],
            [`:claimed${i}`, places[id]],
          ]),
        ),
      }),
    );
    return ids.length;
  } finally {
    db.destroy();
  }
}
