import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Member } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { stableHash } from '#core/stableHash';

/**
 * How many keys a room's members are spread over in the room index at most (docs/ARCHITECTURE.md, "Hot keys"): the
 * lobby's level from the start, and a big room's. A GSI key takes DynamoDB's per-key write rate, and a throttled index
 * throttles its base table's writes: with every connection of a reconnect storm (API Gateway's 500 new connections/s)
 * under one `lobby` key, `$connect` would fail for everyone; over 12 keys the busiest takes about 50 writes/s, and a
 * 5,000-member room's join burst in one second about 470 (417 on average), under the 500/s each key is designed for.
 */
export const ROOM_INDEX_SHARDS = 12;

/**
 * Members per key a room's **key level** is sized for: a room of n members is raised to ⌈n / 100⌉ keys (at most
 * ROOM_INDEX_SHARDS), so a room of up to 100 costs the fan-out one Query and one Deliver chunk (the template's
 * FanoutChunkSize, 100) per message, and a bigger room about one chunk per key, which the fan-out's Map over the
 * room's keys runs side by side.
 * Exported for tests: the room size past which tests see the key level raised.
 */
export const MEMBERS_PER_KEY = 100;

/**
 * A room's key level as stored on its item (`keyLevel`, grow-only: rooms.ts raiseKeyLevel): how many of its keys,
 * `roomId#0` up, hold its members. Absent (a new room): 1. The lobby is always at ROOM_INDEX_SHARDS, with no read:
 * every connection enters it at `$connect`.
 */
export function roomKeyLevel(roomId: string, stored?: unknown): number {
  if (roomId === LOBBY) return ROOM_INDEX_SHARDS;
  const level = Number(stored);
  return Number.isInteger(level) ? Math.min(Math.max(level, 1), ROOM_INDEX_SHARDS) : 1;
}

/** The key level a room of `members` members is sized for: ⌈members / MEMBERS_PER_KEY⌉, from 1 to ROOM_INDEX_SHARDS. */
export const keyLevelFor = (members: number): number =>
  Math.min(Math.max(Math.ceil(members / MEMBERS_PER_KEY), 1), ROOM_INDEX_SHARDS);

/**
 * A connection's shard of a room at key level `level`: a stable hash (32-bit FNV-1a) of its id modulo the level. A
 * subscription written at a lower level stays under one of the keys a higher level reads (0 … level − 1), since the
 * level only grows.
 * Exported for tests: tests place members on a shard without copying its hash.
 */
export function roomIndexShard(connectionId: string, level: number): number {
  return stableHash(connectionId) % level;
}

/** The room index's partition key of a connection in a room: `roomId#n` (room codes and `lobby` hold no `#`). */
export const roomKeyOf = (roomId: string, connectionId: string, level: number): string =>
  `${roomId}#${roomIndexShard(connectionId, level)}`;

/**
 * A room's index keys at key level `level`, shard 0 first. A reader that has not read the room's level reads every
 * key a room can have (ROOM_INDEX_SHARDS): the ones past its level are empty, and it misses no one.
 */
export const roomKeys = (roomId: string, level: number = ROOM_INDEX_SHARDS): string[] =>
  Array.from({ length: level }, (_, shard) => `${roomId}#${shard}`);

/**
 * Names one room's owner may remove (`removedNames`): the fan-out leaves their connections out of its Query of the
 * room index with one filter (removedFilter), and DynamoDB's `IN` takes at most 100 operands and an expression at most
 * 4 KB (Amazon DynamoDB Developer Guide, "Comparison operator and function reference" and "Service, account, and
 * table quotas"): 3 lists of 100 placeholders are about 2 KB.
 */
export const REMOVED_NAMES_MAX = 300;

/**
 * The filter of the fan-out's Query of the room index: no entry showing a removed name. Without any, a filter that
 * every entry passes (the Query's parameters are fixed in the state machine). DynamoDB applies a filter after the
 * read, so it costs no capacity.
 */
export function removedFilter(removed: string[]): {
  expression: string;
  values: Record<string, { S: string }>;
} {
  const names = [...new Set(removed)].slice(0, REMOVED_NAMES_MAX);
  if (names.length === 0) return { expression: 'attribute_exists(connectionId)', values: {} };
  const lists: string[] = [];
  for (let at = 0; at < names.length; at += 100)
    lists.push(
      `NOT (username IN (${names
        .slice(at, at + 100)
        .map((_, i) => `:removed${at + i}`)
        .join(', ')}))`,
    );
  return {
    expression: lists.join(' AND '),
    values: Object.fromEntries(names.map((name, i) => [`:removed${i}`, { S: name }])),
  };
}

/**
 * A room's members are found in the Subscriptions table through its RoomSubscribers index, keyed by `roomKey`
 * (roomKeyOf; subscriptions.ts writes it). With `rooms` (the Rooms table), a reader reads only the keys of the room's
 * key level, which its item holds: a room of up to MEMBERS_PER_KEY members is one Query, not ROOM_INDEX_SHARDS.
 * Without it, every key a room can have.
 */
interface RoomOnIndex {
  table: string;
  index: string;
  roomId: string;
  rooms?: string;
}

/**
 * The room's key level as its item holds it: one GetItem of `keyLevel`, strongly consistent as the fan-out's
 * (deliver/dynamoCursor.ts), so a level a join raised before writing its subscription (rooms/joining.ts) is seen. The
 * lobby's is known without a read; without `rooms`, every key.
 */
function keyLevelOf(db: DynamoDBDocumentClient, room: RoomOnIndex): Promise<number> {
  const { rooms, roomId } = room;
  if (rooms === undefined || roomId === LOBBY) return Promise.resolve(ROOM_INDEX_SHARDS);
  return db
    .send(
      new GetCommand({
        TableName: rooms,
        Key: { roomId },
        ProjectionExpression: 'keyLevel',
        ConsistentRead: true,
      }),
    )
    .then(({ Item }) => roomKeyLevel(roomId, Item?.keyLevel));
}

/**
 * A room's members, one page of the room index at a time, shard after shard, read only as far as the caller goes
 * on. `pageLimit`, when given, is asked before each page: `Limit` bounds the items a page reads, so a caller that
 * needs only a few members pays for only those. The room's level is read beside key 0's first page, or, when the
 * caller may `stop` (a send refused for its rate), after it: a refused send then costs that one Query alone.
 * `keyLevel`: the level as the caller reads it in a read it makes anyway (markread's head), instead of that read.
 */
export async function* roomMemberPages(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  pageLimit?: () => number,
  stop?: AbortSignal,
  keyLevel?: Promise<number>,
): AsyncGenerator<Member[]> {
  const [first, ...rest] = roomKeys(room.roomId) as [string, ...string[]];
  let level = keyLevel ?? (stop ? undefined : keyLevelOf(db, room));
  // Awaited once key 0 is read; a reader that stops before that leaves it unawaited, which is not a failure.
  level?.catch(() => undefined);
  yield* shardPages(db, room, first, pageLimit);
  if (stop?.aborted) return;
  level ??= keyLevelOf(db, room);
  for (const key of rest.slice(0, (await level) - 1)) yield* shardPages(db, room, key, pageLimit);
}

/**
 * Every member of a room, its shards read in parallel (a listing that counts the whole room). `username`: only the
 * members showing it (a moderation's target, named as the member list shows it), each Query filtered to the name.
 * DynamoDB filters after reading, so the read costs what the whole room's does, but only the named entries come back
 * to be parsed: at 10,000 members, ≤ 25 entries instead of 762 KB (docs/DECISIONS.md, "A moderation target read by its
 * name, not the whole room").
 */
export async function allRoomMembers(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  username?: string,
): Promise<Member[]> {
  const wholeShard = async (key: string) => {
    const members: Member[] = [];
    for await (const page of shardPages(db, room, key, undefined, username)) members.push(...page);
    return members;
  };
  const [first, ...rest] = roomKeys(room.roomId) as [string, ...string[]];
  const [firstMembers, level] = await Promise.all([wholeShard(first), keyLevelOf(db, room)]);
  const others = await Promise.all(rest.slice(0, level - 1).map(wholeShard));
  return [firstMembers, ...others].flat();
}

/** One key's pages; `username`: only the entries showing it (a filter after the read: a page still stops at 1 MB read). */
async function* shardPages(
  db: DynamoDBDocumentClient,
  room: RoomOnIndex,
  roomKey: string,
  pageLimit?: () => number,
  username?: string,
): AsyncGenerator<Member[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: room.table,
        IndexName: room.index,
        KeyConditionExpression: 'roomKey = :key',
        ...(username === undefined
          ? { ExpressionAttributeValues: { ':key': roomKey } }
          : {
              FilterExpression: 'username = :name',
              ExpressionAttributeValues: { ':key': roomKey, ':name': username },
            }),
        ProjectionExpression: 'connectionId, username',
        Limit: pageLimit?.(),
        ExclusiveStartKey: startKey,
      }),
    );
    yield (page.Items ?? []) as Member[];
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
