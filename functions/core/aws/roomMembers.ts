import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Member } from '#core/ports';
import { stableHash } from '#core/stableHash';

/**
 * How many keys a room's members are spread over in the room index (docs/ARCHITECTURE.md, "Hot keys"): one constant
 * for every room and the lobby, so no reader has to learn a room's shard count. A GSI key takes DynamoDB's per-key
 * write rate, and a throttled index throttles its base table's writes: with every connection of a reconnect storm
 * (API Gateway's 500 new connections/s) under one `lobby` key, `$connect` would fail for everyone; over 12 keys the
 * busiest takes about 50 writes/s, and a 5,000-member room's join burst in one second about 470 (417 on average), under
 * the 500/s each key is designed for. The fan-out's state machine reads the same keys (functions/deliver/roomIndexKeys.ts).
 */
export const ROOM_INDEX_SHARDS = 12;

/** A connection's shard of every room's index key: a stable hash (32-bit FNV-1a) of its id, never stored twice. */
export function roomIndexShard(connectionId: string): number {
  return stableHash(connectionId) % ROOM_INDEX_SHARDS;
}

/** The room index's partition key of a connection in a room: `roomId#n` (room codes and `lobby` hold no `#`). */
export const roomKeyOf = (roomId: string, connectionId: string): string =>
  `${roomId}#${roomIndexShard(connectionId)}`;

/** Every index key of a room, shard 0 first: a reader of a room's members reads them all. */
export const roomKeys = (roomId: string): string[] =>
  Array.from({ length: ROOM_INDEX_SHARDS }, (_, shard) => `${roomId}#${shard}`);

/**
 * A room's members are found in the Subscriptions table through its RoomSubscribers index, keyed by `roomKey`
 * (roomKeyOf; subscriptions.ts writes it).
 */
export interface RoomOnIndex {
  table: string;
  index: string;
  roomId: string;
}

/**
 * A room's members, one page of the room index at a time, shard after shard, read only as far as the caller goes
 * on. `pageLimit`, when given, is asked before each page: `Limit` bounds the items a page reads, so a caller that
 * needs only a few members pays for only those.
 */
export async function* roomMemberPages(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  pageLimit?: () => number,
): AsyncGenerator<Member[]> {
  for (const key of roomKeys(room.roomId)) yield* shardPages(db, room, key, pageLimit);
}

/** Every member of a room, its shards read in parallel (a listing that counts the whole room). */
export async function allRoomMembers(db: DynamoDBDocumentClient, room: RoomOnIndex): Promise<Member[]> {
  const shards = await Promise.all(
    roomKeys(room.roomId).map(async (key) => {
      const members: Member[] = [];
      for await (const page of shardPages(db, room, key)) members.push(...page);
      return members;
    }),
  );
  return shards.flat();
}

async function* shardPages(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  roomKey: string,
  pageLimit?: () => number,
): AsyncGenerator<Member[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: room.table,
        IndexName: room.index,
        KeyConditionExpression: 'roomKey = :key',
        ExpressionAttributeValues: { ':key': roomKey },
        ProjectionExpression: 'connectionId, username',
        Limit: pageLimit?.(),
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []) as Member[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
