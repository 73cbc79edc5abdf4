import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { toMessage } from '#core/storedItems';
import type { ThreadRoot } from './threads';

/**
 * A thread's root as stored: its summary and followers are attributes of the root's own item in the room's partition
 * (dynamoThreads.ts keeps them). Apart from the thread store, so push, which reads a root's followers and
 * writes nothing of a thread, bundles this read alone.
 */

/** A string set attribute as a list ([] when absent). */
const list = (value: unknown): string[] => (value ? [...(value as Iterable<string>)] : []);

/** The root at `seq`, undefined when the seq holds no live message. */
export async function readThreadRoot(
  db: DynamoDBDocumentClient,
  table: string,
  roomId: string,
  seq: number,
  nowSeconds: number,
): Promise<ThreadRoot | undefined> {
  // The whole item (a read is charged by the item's size whatever it projects), strongly consistent: a message just acknowledged can be replied to at once.
  const { Item } = await db.send(
    new GetCommand({
      TableName: table,
      Key: { roomId, seq },
      ConsistentRead: true,
    }),
  );
  return Item ? threadRootOf(Item, nowSeconds) : undefined;
}

/** A stored item as a thread's root, undefined when it holds no live message. */
export function threadRootOf(Item: Record<string, unknown>, nowSeconds: number): ThreadRoot | undefined {
  // A change event or a gap marker holds a seq but is no message; an item past its TTL may linger until deleted.
  if (Item.change !== undefined || Item.gap === true) return undefined;
  if (typeof Item.ttl === 'number' && Item.ttl <= nowSeconds) return undefined;
  return {
    seq: Number(Item.seq),
    username: String(Item.username),
    ...(Item.authorKey !== undefined && { authorKey: String(Item.authorKey) }),
    ...(Item.authorUser !== undefined && { authorUser: String(Item.authorUser) }),
    deleted: Item.deleted !== undefined,
    ...(Item.threadOf !== undefined && { threadOf: Number(Item.threadOf) }),
    replyCount: Number(Item.replyCount ?? 0),
    replyNames: list(Item.replyNames),
    followers: list(Item.followers),
    followerUsers: list(Item.followerUsers),
    message: toMessage(Item),
  };
}
