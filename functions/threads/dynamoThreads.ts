import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isGapMarker } from '#core/gaps';
import type { ChatMessage } from '#core/protocol';
import { toMessage } from '#core/storedItems';
import { batchGetAll, batchGetMany } from '#platform/aws/batchGet';
import { isConditionFailure } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import { THREAD_LIMITS } from '#protocol';
import { readThreadRoot, threadRootOf } from './dynamoThreadRoots';
import type { RootAddition, ThreadRoot, ThreadStore } from './threads';

/** A thread's partition of the Messages table: one pointer item per reply, keyed by the reply's seq. */
const threadPartition = (roomId: string, rootSeq: number) => `${roomId}#t${rootSeq}`;

/**
 * The DynamoDB adapter of ThreadStore (threads.ts). The root's summary and followers are attributes of the root's own
 * item in the room's partition; the pointers live in the thread's partition, which no Query of the room meets.
 */
export class DynamoThreadStore implements ThreadStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  root(roomId: string, seq: number, nowSeconds: number): Promise<ThreadRoot | undefined> {
    return readThreadRoot(this.db, this.table, roomId, seq, nowSeconds);
  }

  async roots(
    keys: readonly { roomId: string; seq: number }[],
    nowSeconds: number,
  ): Promise<(ThreadRoot & { roomId: string })[]> {
    if (keys.length === 0) return [];
    // Eventually consistent (half the read units): a listing is advisory, the thread's page reads its root again.
    const items = await batchGetMany(this.db, {
      TableName: this.table,
      Keys: keys.map(({ roomId, seq }) => ({ roomId, seq })),
    });
    return items.flatMap((item) => {
      const root = threadRootOf(item, nowSeconds);
      return root ? [{ ...root, roomId: String(item.roomId) }] : [];
    });
  }

  async putPointer(roomId: string, rootSeq: number, seq: number, expiresAt: number): Promise<void> {
    await retryingConflicts(() =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { roomId: threadPartition(roomId, rootSeq), seq, ttl: expiresAt },
        }),
      ),
    );
  }

  async addReply(roomId: string, rootSeq: number, addition: RootAddition): Promise<void> {
    const adds = [
      'replyCount :one',
      ...(addition.names.length > 0 ? ['replyNames :names'] : []),
      ...(addition.followers.length > 0 ? ['followers :followers'] : []),
      ...(addition.users.length > 0 ? ['followerUsers :users'] : []),
    ];
    const values = {
      ':one': 1,
      ...(addition.names.length > 0 && { ':names': new Set(addition.names) }),
      ...(addition.followers.length > 0 && { ':followers': new Set(addition.followers) }),
      ...(addition.users.length > 0 && { ':users': new Set(addition.users) }),
    };
    const update = (latest: boolean) =>
      retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId, seq: rootSeq },
            UpdateExpression: `${latest ? 'SET lastReplyAt = :at, lastReplySeq = :seq ' : ''}ADD ${adds.join(', ')}`,
            // The latest reply's time and seq move forward only: a reply whose write lands after a later one's adds
            // to the count and names alone.
            ConditionExpression: latest
              ? 'attribute_exists(seq) AND (attribute_not_exists(lastReplySeq) OR lastReplySeq < :seq)'
              : 'attribute_exists(seq)',
            ExpressionAttributeValues: {
              ...values,
              ...(latest && { ':at': addition.sentAt, ':seq': addition.seq }),
            },
          }),
        ),
      );
    try {
      await update(true);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      try {
        await update(false);
      } catch (again) {
        // The root expired and was deleted since it was read: nothing to count on.
        if (!isConditionFailure(again)) throw again;
      }
    }
  }

  async follow(
    roomId: string,
    rootSeq: number,
    follower: { key: string; user?: string },
    follow: boolean,
  ): Promise<boolean> {
    const sets = follower.user ? 'followers :key, followerUsers :user' : 'followers :key';
    try {
      await retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId, seq: rootSeq },
            UpdateExpression: `${follow ? 'ADD' : 'DELETE'} ${sets}`,
            ConditionExpression: follow
              ? 'attribute_exists(seq) AND (attribute_not_exists(followers) OR size(followers) < :max OR contains(followers, :me))'
              : 'attribute_exists(seq)',
            ExpressionAttributeValues: {
              ':key': new Set([follower.key]),
              ...(follower.user && { ':user': new Set([follower.user]) }),
              ...(follow && { ':max': THREAD_LIMITS.followersPerThread, ':me': follower.key }),
            },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return false;
    }
  }

  async replySeqs(
    roomId: string,
    rootSeq: number,
    page: { afterSeq?: number; beforeSeq?: number; limit: number },
  ): Promise<number[]> {
    const partition = threadPartition(roomId, rootSeq);
    const forward = page.afterSeq !== undefined;
    const bound =
      page.afterSeq !== undefined
        ? { cond: ' AND seq > :s', value: { ':s': page.afterSeq } }
        : page.beforeSeq !== undefined
          ? { cond: ' AND seq < :s', value: { ':s': page.beforeSeq } }
          : { cond: '', value: {} };
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: `roomId = :t${bound.cond}`,
        ExpressionAttributeValues: { ':t': partition, ...bound.value },
        ProjectionExpression: 'seq',
        ScanIndexForward: forward,
        Limit: page.limit,
        ConsistentRead: true,
      }),
    );
    const seqs = Items.map((item) => Number(item.seq));
    return forward ? seqs : seqs.reverse();
  }

  async replies(
    roomId: string,
    rootSeq: number,
    seqs: readonly number[],
    nowSeconds: number,
  ): Promise<ChatMessage[]> {
    if (seqs.length === 0) return [];
    const items = await batchGetAll(this.db, {
      TableName: this.table,
      Keys: seqs.map((seq) => ({ roomId, seq })),
    });
    // A pointer whose seq holds no reply of this thread (its send failed after the pointer, or the seq held an older
    // event) is passed over, as is a reply past its TTL.
    return items
      .filter(
        (item) =>
          !isGapMarker(item) &&
          Number(item.threadOf) === rootSeq &&
          !(typeof item.ttl === 'number' && item.ttl <= nowSeconds),
      )
      .map(toMessage)
      .sort((a, b) => a.seq - b.seq);
  }
}
