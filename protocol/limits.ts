/**
 * The protocol's limits, the API Gateway quotas it lives within, room codes, the patterns of its tokens and the
 * checks server and client share on them.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** Limits of the client protocol. */
export const LIMITS = {
  usernameMaxChars: 32,
  messageMaxBytes: 4096,
  historyDefault: 50,
  historyMax: 100,
  clientMsgIdMaxChars: 64,
  /** A request id travels like a clientMsgId: same length and characters. */
  requestIdMaxChars: 64,
  /** Member lists are capped so a frame for a huge room stays far below the gateway's 128 KB. */
  membersListed: 200,
  /**
   * A reply carrying messages (`history`, `joined`) stops adding them before its JSON passes this many UTF-8 bytes,
   * leaving room under the gateway's 128 KB message for what is added after (`requestId`, `inviteKey`); the rest
   * follows in pages (`hasMore`).
   */
  replyMaxBytes: 120 * 1024,
  /**
   * Rooms one connection follows at once (its subscriptions, the lobby not counted): a join, create, direct message
   * or `subscribe` past it is refused TOO_MANY_ROOMS.
   */
  subscriptionsMax: 100,
} as const;

/** API Gateway WebSocket quotas the protocol lives within (AWS "Amazon API Gateway quotas" page). */
export const GATEWAY = {
  /** A connection with no traffic for this long is closed by API Gateway. */
  idleTimeoutMs: 10 * 60 * 1000,
  /** Every connection is closed after this long, busy or not. */
  maxConnectionMs: 2 * 60 * 60 * 1000,
  /** Largest WebSocket frame; a message may span frames up to `maxMessageBytes`. */
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  /** API Gateway meters messages in 32 KB increments, both directions. */
  meteringIncrementBytes: 32 * 1024,
} as const;

export const LOBBY = 'lobby';
export const ROOM_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** New rooms get codes of this length (32⁸ ≈ 1.1 × 10¹² codes). */
export const ROOM_CODE_LENGTH = 8;
/** Rooms made before codes had 8 characters keep their 6-character codes, which still join. */
export const LEGACY_ROOM_CODE_LENGTH = 6;
/** Regular-expression sources, shared with asyncapi.yaml's `pattern`s. */
export const PATTERNS = {
  /** 8 characters, 6 for an older room, 12 for a direct-message room (protocol/members.ts). */
  roomCode: '^[A-HJ-NP-Z2-9]{6}([A-HJ-NP-Z2-9]{2}|[A-HJ-NP-Z2-9]{6})?$',
  clientMsgId: '^[A-Za-z0-9._:-]+$',
  /** A room's 96-bit invite key, base64url: a join that carries it takes no guess (docs/SECURITY.md). */
  inviteKey: '^[A-Za-z0-9_-]{16}$',
  /**
   * The `resume` connect parameter: 128 random bits, base64url, that a client makes once and presents on every
   * (re)connect. It scopes its `clientMsgId`s without sign-in: only its holder knows it (docs/PROTOCOL.md).
   */
  resumeToken: '^[A-Za-z0-9_-]{22}$',
  /**
   * One character of a name after NFKC (flag `u`): letters, marks, digits (PRECIS IdentifierClass), the space and
   * ' - _ . @. Everything else is refused, so no format, invisible or space-like character stands in a name.
   */
  usernameChar: "[\\p{L}\\p{Mn}\\p{Mc}\\p{Nd} '\\-_.@]",
} as const;
const ROOM_CODE = new RegExp(PATTERNS.roomCode);
const CLIENT_MSG_ID = new RegExp(PATTERNS.clientMsgId);

/**
 * The keepalive: a frame API Gateway answers itself (a MOCK integration with a route response, no Lambda), so a
 * client can keep an idle connection open and notice a dead one for the price of two messages.
 */
export const PING_FRAME = '{"action":"ping"}';
export const PONG_BODY = '{"type":"pong"}';

export function isRoomCode(value: string): boolean {
  return ROOM_CODE.test(value);
}

/** A room id as a client may write it (lower case accepted), normalised; undefined when it is not one. */
export function normalizeRoomId(value: string): string | undefined {
  const roomId = value.trim();
  if (roomId === LOBBY) return LOBBY;
  const code = roomId.toUpperCase();
  return isRoomCode(code) ? code : undefined;
}

/** True for a clientMsgId or requestId the server accepts. */
export function isRequestToken(
  value: unknown,
  maxChars: number = LIMITS.clientMsgIdMaxChars,
): value is string {
  return (
    typeof value === 'string' && value.length > 0 && value.length <= maxChars && CLIENT_MSG_ID.test(value)
  );
}

const encoder = new TextEncoder();
/** UTF-8 length, the unit of the message limit; works without Node's Buffer. */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}
