import { createHash } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PushSubscriptionJson } from '#protocol';
import type { PushSubscriptionStore, StoredSubscription } from './ports';

/** A subscription's key in its user's partition: SHA-256 of its endpoint (endpoints run to hundreds of bytes). */
const endpointKeyOf = (endpoint: string): string => createHash('sha256').update(endpoint).digest('base64url');

/**
 * A subscription nobody renewed is deleted after this long (DynamoDB TTL): the web chat renews it on every sign-in,
 * and a push service answers 404/410 for one it dropped, which removes it sooner.
 */
const SUBSCRIPTION_TTL_DAYS = 60;

/**
 * Push subscriptions in their own table, one partition per signed-in user (`userId`, `endpointKey`): a user's are
 * read with one Query, and only the push function's role touches them.
 */
export class DynamoPushSubscriptions implements PushSubscriptionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async of(userId: string, limit: number): Promise<StoredSubscription[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'userId = :user',
        ExpressionAttributeValues: { ':user': userId },
        Limit: limit,
      }),
    );
    return Items.map((item) => ({
      endpointKey: String(item.endpointKey),
      endpoint: String(item.endpoint),
      keys: { p256dh: String(item.p256dh), auth: String(item.auth) },
    }));
  }

  async put(userId: string, subscription: PushSubscriptionJson, max: number): Promise<boolean> {
    const endpointKey = endpointKeyOf(subscription.endpoint);
    // One Query bounds the count: a renewal of a stored endpoint always passes, a new one only under `max`. Two
    // devices subscribing at once may pass it by one; the bound is a guard against a flood, not an invariant.
    const stored = await this.of(userId, max + 1);
    if (!stored.some((s) => s.endpointKey === endpointKey) && stored.length >= max) return false;
    const now = Math.floor(Date.now() / 1000);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          userId,
          endpointKey,
          endpoint: subscription.endpoint,
          p256dh: subscription.keys.p256dh,
          auth: subscription.keys.auth,
          storedAt: now,
          ttl: now + SUBSCRIPTION_TTL_DAYS * 86_400,
        },
      }),
    );
    return true;
  }

  async remove(userId: string, endpoint: string): Promise<boolean> {
    const { Attributes } = await this.db.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { userId, endpointKey: endpointKeyOf(endpoint) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }
}
