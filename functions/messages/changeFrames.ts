import { createHash } from 'node:crypto';
import type { Connection } from '#core/ports';
import type { ChangeFrame, ChatMessage, MessageFrame, ReactionCount, RoomEventFrame } from '#protocol';

/** A message's reactions in all: members per reaction (none at 0), their total, the last reaction event counted. */
export interface ReactionSummary {
  counts: Record<string, number>;
  total: number;
  /** The highest reaction event's seq whose effect `counts` holds (every lower one's too): its `changeSeq`. */
  lastSeq: number;
}
/** A message's reactions as one member sees them: the summary (absent: none yet) and the ones it gave. */
export interface ReactionState {
  summary: ReactionSummary | undefined;
  given: string[];
}

/**
 * How a room's events are stored in the Messages table and shown to members. A message's item carries, besides
 * what its frame shows, who wrote it (`authorKey`), whether it has reactions (`reacted`; they are in the Reactions
 * table, messages/dynamoReactions.ts) and the seqs of its edits (`editSeqs`, so a delete can scrub their text); a
 * change's item (`change` set) is the event every member gets.
 */

/** A message's item with what only the server reads. */
export interface StoredMessage extends ChatMessage {
  /** The author's key in its room (memberKey); absent on messages stored before authors were kept: nobody edits those. */
  authorKey?: string;
  /** Set by its first reaction: `history` reads the reactions of these messages only. */
  reacted?: boolean;
  /** Its reactions as read from the Reactions table for one member (never stored on the item). */
  reactionState?: ReactionState;
  /** The seqs of this message's edit events, oldest first. */
  editSeqs?: number[];
  /** The keys in the room (memberKey) of the members it names (`mentions`): their unread mention counts. */
  mentionKeys?: string[];
  /** DynamoDB's TTL attribute (epoch seconds), as read back by the changes' own reads. */
  ttl?: number;
}

/** A change's item: the fields of the frame every member gets, whose `type` is `change`. */
export interface StoredChange {
  change: ChangeFrame['type'];
  roomId: string;
  seq: number;
  messageId: string;
  username: string;
  sentAt: string;
  targetSeq: number;
  text?: string;
  /** An edit's text was removed when its message was deleted. */
  scrubbed?: boolean;
  by?: 'author' | 'owner';
  reaction?: string;
  added?: boolean;
  count?: number;
}

export function isStoredChange(item: ChatMessage | StoredChange): item is StoredChange {
  return typeof (item as StoredChange).change === 'string';
}

/**
 * A member's key in one room: a hash of the identity its clientMsgIds belong to (the signed-in user, else its resume
 * token, else its connection; sending.ts senderOf) salted with the room, so the key names the member to the
 * server in that room only and reveals neither its resume token nor its presence in other rooms.
 */
export function memberKey(roomId: string, sender: string): string {
  return createHash('sha256').update(`${roomId}\n${sender}`).digest('base64url').slice(0, 16);
}

/** A message's reactions as the member whose state it is sees them: counts, most given first, and its own (`mine`). */
export function reactionsOf(state: ReactionState | undefined): ReactionCount[] {
  const given = new Set(state?.given ?? []);
  return Object.entries(state?.summary?.counts ?? {})
    .filter(([, count]) => count > 0)
    .map(([reaction, count]) => ({ reaction, count, ...(given.has(reaction) && { mine: true }) }))
    .sort((a, b) => b.count - a.count || (a.reaction < b.reaction ? -1 : 1));
}

/**
 * A message's frame, with its state after any change: `editedAt`, the tombstone, its reactions as read for one member
 * (`reactionState`); `changeSeq` is its last edit or delete, or the last reaction event its counts hold if later.
 */
export function messageFrameOf(message: StoredMessage): MessageFrame {
  const { roomId, seq, messageId, username, text, sentAt, editedAt, deleted, replyTo, mentions } = message;
  const { attachments } = message;
  const { authorKey } = message;
  const reactions = deleted ? [] : reactionsOf(message.reactionState);
  const reacted = deleted ? 0 : (message.reactionState?.summary?.lastSeq ?? 0);
  const changeSeq =
    message.changeSeq !== undefined || reacted > 0 ? Math.max(message.changeSeq ?? 0, reacted) : undefined;
  return {
    type: 'message',
    roomId,
    seq,
    messageId,
    username,
    text: deleted ? '' : text,
    sentAt,
    ...(authorKey !== undefined && { authorKey }),
    ...(replyTo !== undefined && !deleted && { replyTo }),
    ...(mentions !== undefined && !deleted && { mentions }),
    ...(attachments !== undefined && !deleted && { attachments }),
    ...(editedAt !== undefined && { editedAt }),
    ...(deleted !== undefined && { deleted }),
    ...(reactions.length > 0 && { reactions }),
    ...(changeSeq !== undefined && { changeSeq }),
  };
}

/** A change's frame; an edit whose message was deleted since has its text scrubbed. */
export function changeFrameOf(item: StoredChange): ChangeFrame {
  const { roomId, seq, messageId, username, sentAt, targetSeq } = item;
  const common = { roomId, seq, messageId, username, sentAt, targetSeq };
  switch (item.change) {
    case 'edited':
      return { type: 'edited', ...common, text: item.scrubbed ? '' : String(item.text ?? '') };
    case 'deleted':
      return { type: 'deleted', ...common, by: item.by === 'owner' ? 'owner' : 'author' };
    default:
      return {
        type: 'reaction',
        ...common,
        reaction: String(item.reaction),
        added: item.added === true,
        count: Number(item.count ?? 0),
      };
  }
}

/** Any item of a room's Messages table as the frame a member gets (with its reactions as read for that member). */
export function roomFrameOf(item: ChatMessage | StoredChange): RoomEventFrame {
  return isStoredChange(item) ? changeFrameOf(item) : messageFrameOf(item);
}

/** Who a connection's changes and clientMsgIds belong to (never a name); see sending.ts. */
export function senderOf(connection: Connection): string {
  if (connection.userId?.startsWith('user:')) return connection.userId;
  return connection.sendScope ?? `connection:${connection.connectionId}`;
}
