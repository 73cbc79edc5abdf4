import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Subscribed } from '#core/ports';
import { roomKeyLevel, roomKeyOf } from './roomMembers';

/**
 * The subscriptions table: one item per (connection, room) the connection follows, keyed (`connectionId`,
 * `roomId`). Its `roomKey` (`roomId#n`, roomMembers.ts) keys the RoomSubscribers index every reader of a room's
 * connections queries (the fan-out, `who`, typing, mentions); a connection's own items are one Query of its
 * partition, so `$disconnect` finds every room it followed without an index. A connection follows up to
 * LIMITS.subscriptionsMax rooms (its item's `subscriptionCount`), and the lobby only while it shows it (the connection
 * item's `roomId`, its shown room): docs/ARCHITECTURE.md, "Subscriptions: one connection, many rooms".
 */

/** API Gateway closes a connection after 2 h; the TTL is a safety net for a $disconnect that never ran. */
const CONNECTION_TTL_SECONDS = 2 * 3600 + 15 * 60;

/**
 * How long after `connectedAt` the connection may still be in its handshake at most: API Gateway runs `$connect` under
 * its 29 s integration timeout and answers 410 to posts until it has returned. `$connect` says sooner when it can
 * (Connection.handshakeEndsAt: its invocation's end, Timeout 10 s, and a second), so a member who vanishes soon after
 * connecting is pruned within seconds, not half a minute. The fan-out's prune leaves a subscription alone while its
 * `prunableAfter` had not passed when the execution started (statemachines/fanout.asl.json).
 */
export const HANDSHAKE_MS = 30_000;

/** The connection's TTL (epoch seconds) from when it connected: its subscriptions end with it. */
export const connectionTtl = (connectedAt: string): number =>
  Math.floor(Date.parse(connectedAt) / 1000) + CONNECTION_TTL_SECONDS;

/**
 * Where a connection's subscriptions are: the table, and its index of a room's subscribers; with the Rooms table, a
 * room's readers read only the keys of its key level (roomMembers.ts).
 */
export interface SubscriptionTables {
  table: string;
  index: string;
  rooms?: string;
}

/**
 * A subscription item. `prunableAfter` only on the one `$connect` writes: a subscription written by a frame (a join,
 * a move) belongs to a connection past its handshake, since API Gateway routes no frame before `$connect` returned.
 * `keyLevel`: the room's key level the writer read (or raised it to) for its `roomKey`; absent, a new room's (1), and
 * always the full level in the lobby (roomMembers.ts roomKeyLevel).
 */
export function subscriptionItem(s: {
  connectionId: string;
  roomId: string;
  username: string;
  userId?: string;
  connectedAt: string;
  subscribedAt: string;
  prunableAfter?: string;
  keyLevel?: number;
}): Record<string, unknown> {
  return {
    connectionId: s.connectionId,
    roomId: s.roomId,
    roomKey: roomKeyOf(s.roomId, s.connectionId, roomKeyLevel(s.roomId, s.keyLevel)),
    username: s.username,
    ...(s.userId !== undefined && { userId: s.userId }),
    subscribedAt: s.subscribedAt,
    ...(s.prunableAfter !== undefined && { prunableAfter: s.prunableAfter }),
    ttl: connectionTtl(s.connectedAt),
  };
}

/** Writes (or replaces) one subscription. */
export async function putSubscription(
  db: DynamoDBDocumentClient,
  table: string,
  item: Record<string, unknown>,
): Promise<void> {
  await db.send(new PutCommand({ TableName: table, Item: item }));
}

export type { Subscribed };

/**
 * Deletes one subscription; deleting one that is not there is not an error. Returns it as it was (undefined: there
 * was none), so a caller counts each subscription off once.
 */
export async function deleteSubscription(
  db: DynamoDBDocumentClient,
  table: string,
  connectionId: string,
  roomId: string,
): Promise<Subscribed | undefined> {
  const deleted = await db.send(
    new DeleteCommand({ TableName: table, Key: { connectionId, roomId }, ReturnValues: 'ALL_OLD' }),
  );
  const Attributes = deleted?.Attributes;
  return Attributes ? { roomId, username: String(Attributes.username) } : undefined;
}

/** One subscription, read strongly consistent (a write just made is seen): undefined when the room is not followed. */
export async function getSubscription(
  db: DynamoDBDocumentClient,
  table: string,
  connectionId: string,
  roomId: string,
): Promise<Subscribed | undefined> {
  const read = await db.send(
    new GetCommand({
      TableName: table,
      Key: { connectionId, roomId },
      ProjectionExpression: 'roomId, username',
      ConsistentRead: true,
    }),
  );
  const Item = read?.Item;
  return Item ? { roomId, username: String(Item.username) } : undefined;
}

/** The rooms a connection follows (one strongly consistent Query of its partition: a write just made is seen). */
export async function subscribedRooms(
  db: DynamoDBDocumentClient,
  table: string,
  connectionId: string,
): Promise<Subscribed[]> {
  const rooms: Subscribed[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'connectionId = :id',
        ExpressionAttributeValues: { ':id': connectionId },
        ProjectionExpression: 'roomId, username',
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? [])
      rooms.push({ roomId: String(item.roomId), username: String(item.username) });
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rooms;
}

/** Deletes every subscription of a connection ($disconnect): the rooms it followed, as they were. */
export async function unsubscribeAll(
  db: DynamoDBDocumentClient,
  table: string,
  connectionId: string,
): Promise<Subscribed[]> {
  const rooms = await subscribedRooms(db, table, connectionId);
  await Promise.all(rooms.map(({ roomId }) => deleteSubscription(db, table, connectionId, roomId)));
  return rooms;
}
