/**
 * Push notifications (Web Push: RFC 8030 delivery, RFC 8291 payload encryption, RFC 8292 VAPID): a signed-in member
 * stores a browser's push subscription, and a mention, a direct message or a reply in a thread it follows reaches it
 * as a push while it has no live connection. docs/PROTOCOL.md ("Push notifications") explains it;
 * protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import { DM_ROOM_CODE_LENGTH } from './members';

export const PUSH_LIMITS = {
  /** Push subscriptions one user keeps (browsers, phones); one more is refused until one is removed. */
  subscriptionsPerUser: 10,
  /** An endpoint URL's length at most (browsers' are about 200–500 characters). */
  endpointMaxChars: 1024,
  /** Characters of the message a push shows. */
  textChars: 120,
} as const;

/**
 * Whether a chat message can be pushed to anyone: it may name someone (an `@`), it is in a direct-message room, or it
 * replies in a thread (whose followers hear of it). Only such a message's `MessageSent` carries `mayPush`, and the bus
 * rule that invokes the push function matches only those, so the other messages cost no rule invocation.
 */
export function mayPush(message: { roomId: string; text: string; threadOf?: number }): boolean {
  return (
    message.text.includes('@') ||
    message.roomId.length === DM_ROOM_CODE_LENGTH ||
    message.threadOf !== undefined
  );
}

export const PUSH_ACTIONS = ['pushsubscribe', 'pushunsubscribe'] as const;
export type PushAction = (typeof PUSH_ACTIONS)[number];

/** A browser's PushSubscription as `subscription.toJSON()` gives it. */
export interface PushSubscriptionJson {
  /** The push service's URL for this browser: https, on a public address. */
  endpoint: string;
  keys: {
    /** The browser's P-256 public key, uncompressed (65 bytes), base64url. */
    p256dh: string;
    /** The 16-byte authentication secret, base64url. */
    auth: string;
  };
}

/**
 * Stores `subscription` for the signed-in caller (a repeat of a stored endpoint renews it). Without `subscription` it
 * stores nothing and answers the server's VAPID public key, the `applicationServerKey` a browser subscribes with.
 */
export interface PushSubscribeRequest {
  action: 'pushsubscribe';
  subscription?: PushSubscriptionJson;
  requestId?: string;
}
/** Removes the caller's subscription with this endpoint (none stored: nothing to do). */
export interface PushUnsubscribeRequest {
  action: 'pushunsubscribe';
  endpoint: string;
  requestId?: string;
}
export type PushRequest = PushSubscribeRequest | PushUnsubscribeRequest;

export interface PushSubscriptionFrame {
  type: 'pushsubscription';
  /** The VAPID public key (uncompressed P-256 point, base64url). */
  publicKey: string;
  /** True when this request stored (or removed) a subscription. */
  stored: boolean;
  requestId?: string;
}

export const PUSH_FRAME_TYPES = ['pushsubscription'] as const;
export const PUSH_REPLY_TYPE = {
  pushsubscribe: 'pushsubscription',
  pushunsubscribe: 'pushsubscription',
} as const;

/** Why a push was sent. */
export type PushReason = 'mention' | 'dm' | 'thread';

/**
 * What a push carries, decrypted by the browser and shown by web/sw.js: its title says who and where ("bob mentioned
 * you in #Ops desk", "bob sent you a message" in a direct-message room, "… in room K7M2QD" for a room never named),
 * and a click opens `roomId`. At most ~1.3 KB of JSON (every field at its bound, each character escaped), within
 * Web Push's 4,096-byte record (RFC 8291 §4) with its 103 bytes of header, tag and padding.
 */
export interface PushPayload {
  type: 'push';
  reason: PushReason;
  roomId: string;
  seq: number;
  /** Who wrote the message. */
  username: string;
  /** Its first PUSH_LIMITS.textChars characters. */
  text: string;
  /** The room's name (at most DIRECTORY_LIMITS.roomNameMaxChars); absent for a room never named and a direct one. */
  roomName?: string;
  /** A direct-message room: the message is from its other member, `username`. */
  direct?: true;
}
