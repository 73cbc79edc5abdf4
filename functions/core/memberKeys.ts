import { createHash } from 'node:crypto';
import type { Connection } from '#core/ports';
import { epochSeconds } from '#core/roomLife';
import { DM_ROOM_CODE_LENGTH, ROOM_CODE_ALPHABET } from '#protocol';

/**
 * Who a member is, as the features that keep, show or check it name it: its sends' scope (`senderOf`), its key in
 * one room (`memberKey`), whose memberships and blocks are its own (`memberKeyOf`) and a pair's direct-message room
 * (`dmRoomId`).
 */

/** Who a connection's changes and clientMsgIds belong to (never a name); see sending.ts. */
export function senderOf(connection: Connection): string {
  if (connection.userId?.startsWith('user:')) return connection.userId;
  return connection.sendScope ?? `connection:${connection.connectionId}`;
}

/**
 * A member's key in one room: a hash of the identity its clientMsgIds belong to (the signed-in user, else its resume
 * token, else its connection; sending.ts senderOf) salted with the room, so the key names the member to the
 * server in that room only and reveals neither its resume token nor its presence in other rooms.
 */
export function memberKey(roomId: string, sender: string): string {
  return createHash('sha256').update(`${roomId}\n${sender}`).digest('base64url').slice(0, 16);
}

/** Whose memberships a connection's are: the signed-in user, else its resume token, else the connection alone. */
export function memberKeyOf(connection: Connection): string {
  if (connection.userId?.startsWith('user:')) return connection.userId;
  if (connection.sendScope?.startsWith('resume:')) return connection.sendScope;
  return `connection:${connection.connectionId}`;
}

/**
 * When a membership without sign-in is deleted (DynamoDB TTL, epoch seconds), counted from its last write: a
 * connection lives 2 hours at most; a resume token is forgotten with its tab or app, so its memberships go 30 days
 * after their last use. A signed-in user's stay until the room ends or the user leaves it.
 */
export function membershipTtl(memberKey: string, now: Date): number | undefined {
  if (memberKey.startsWith('user:')) return undefined;
  const hours = memberKey.startsWith('resume:') ? 30 * 24 : 3;
  return epochSeconds(now) + hours * 3600;
}

/** The code of the pair's room: the same for either order, 12 characters (60 bits of SHA-256 of both ids). */
export function dmRoomId(a: string, b: string): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([a, b].sort()))
    .digest();
  let code = '';
  for (let i = 0; i < DM_ROOM_CODE_LENGTH; i++) {
    // Five bits per character, read across byte boundaries.
    const bit = i * 5;
    const word = ((digest[bit >> 3] ?? 0) << 8) | (digest[(bit >> 3) + 1] ?? 0);
    code += ROOM_CODE_ALPHABET[(word >> (11 - (bit & 7))) & 31];
  }
  return code;
}
