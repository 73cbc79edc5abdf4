import type { PushPayload, PushSubscriptionJson } from '#protocol';

/** A stored subscription: the browser's, and its key in the user's partition. */
export interface StoredSubscription extends PushSubscriptionJson {
  endpointKey: string;
}

/** The push subscriptions of signed-in users (PushSubscriptionsTable: `userId`, `endpointKey`). */
export interface PushSubscriptionStore {
  /** The user's subscriptions, at most `limit`. */
  of(userId: string, limit: number): Promise<StoredSubscription[]>;
  /** Stores (or renews) one; `max` bounds how many the user keeps: false when a new one would pass it. */
  put(userId: string, subscription: PushSubscriptionJson, max: number): Promise<boolean>;
  /** Removes the user's subscription with this endpoint; true when one was there. */
  remove(userId: string, endpoint: string): Promise<boolean>;
}

/** The VAPID key pair and contact the pushes are signed with (RFC 8292). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** What the push service answered one push: sent, gone for good (404/410: remove it), or failed for now. */
export type PushOutcome = 'sent' | 'gone' | 'failed';

/** Sends one encrypted push (RFC 8030 + RFC 8291) signed with VAPID to a subscription. */
export interface PushSender {
  send(
    subscription: PushSubscriptionJson,
    payload: PushPayload,
    options: { topic: string; ttlSeconds: number },
  ): Promise<PushOutcome>;
}
