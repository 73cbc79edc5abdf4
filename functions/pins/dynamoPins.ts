import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { CHANGE_LIMITS, type Pin } from '#protocol';

/**
 * A room's pins: one item of the Messages table under its own partition key (`<roomId>#pins`, seq 0), apart from the
 * room's events (no Query of the room's partition meets it) and from the room's item (a pin never holds up a send,
 * which takes its seq from the room's item). Each pin is an attribute `p<seq>` = { by, at } and `pinCount` counts
 * them, so a pin is one conditional write (count below CHANGE_LIMITS.pinsPerRoom, this seq not pinned) in the
 * change's transaction. 50 pins of ~100 bytes is ~5 KB, far below DynamoDB's 400 KB item limit.
 */
const pinsKey = (roomId: string) => ({ roomId: `${roomId}#pins`, seq: 0 });

const pinAttribute = (seq: number) => `p${seq}`;

/** The transaction's write of the pins item for a pin (`add`) or an unpin (`remove`); `ttl` keeps it as long as the pin. */
export function pinsWrite(
  table: string,
  roomId: string,
  pins: { add: Pin } | { remove: number },
  ttl: number,
): {
  TableName: string;
  Key: Record<string, unknown>;
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  const base = { TableName: table, Key: pinsKey(roomId) };
  if ('add' in pins)
    return {
      ...base,
      UpdateExpression: 'SET #pin = :pin, #ttl = :ttl ADD pinCount :one',
      ConditionExpression:
        'attribute_not_exists(#pin) AND (attribute_not_exists(pinCount) OR pinCount < :max)',
      ExpressionAttributeNames: { '#pin': pinAttribute(pins.add.seq), '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':pin': { by: pins.add.by, at: pins.add.at },
        ':ttl': ttl,
        ':one': 1,
        ':max': CHANGE_LIMITS.pinsPerRoom,
      },
    };
  return {
    ...base,
    UpdateExpression: 'REMOVE #pin ADD pinCount :less',
    ConditionExpression: 'attribute_exists(#pin)',
    ExpressionAttributeNames: { '#pin': pinAttribute(pins.remove) },
    ExpressionAttributeValues: { ':less': -1 },
  };
}

/**
 * The room's pins, oldest pin first, read strongly consistent by a Query of the pins item's key (one item: what the
 * Messages table's Query permission already allows the functions that read a room's history).
 */
export async function readPins(db: DynamoDBDocumentClient, table: string, roomId: string): Promise<Pin[]> {
  const key = pinsKey(roomId);
  const { Items } = await db.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'roomId = :room AND seq = :seq',
      ExpressionAttributeValues: { ':room': key.roomId, ':seq': key.seq },
      ConsistentRead: true,
    }),
  );
  const item = Items?.[0] ?? {};
  return Object.entries(item)
    .filter(([name, value]) => /^p\d+$/.test(name) && typeof value === 'object' && value !== null)
    .map(([name, value]) => {
      const { by, at } = value as { by?: unknown; at?: unknown };
      return { seq: Number(name.slice(1)), by: String(by ?? ''), at: String(at ?? '') };
    })
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
}
