import type { ChangeFrame, ChatMessage, MessageFrame, RoomEventFrame } from '#protocol';
import { CHANGE_KINDS, changeKinds, kindOfEvent } from './changeKinds';
import type { StoredChange, StoredMessage, TargetUpdate } from './changeKinds/kind';
import { messageParts } from './messageParts';

export type { ReactionState, ReactionSummary, StoredChange, StoredMessage } from './changeKinds/kind';

/**
 * How a room's events are stored in the Messages table and shown to members. A message's item carries, besides
 * what its frame shows, who wrote it (`authorKey`), whether it has reactions (`reacted`; they are in the Reactions
 * table, messages/dynamoReactions.ts) and the seqs of its edits (`editSeqs`, so a delete can scrub their text); a
 * change's item (`change` set) is the event every member gets. What each kind of change adds to either is in its
 * module (changeKinds/).
 */

export function isStoredChange(item: ChatMessage | StoredChange): item is StoredChange {
  return typeof (item as StoredChange).change === 'string';
}

/**
 * A message's frame, with its state after any change, as each kind shows it (`editedAt`, the tombstone, its
 * reactions as read for one member: `reactionState`); `changeSeq` is its last change stored on it, or the latest
 * one a kind's state holds if later (the last reaction event its counts hold). A deleted message shows no text,
 * reply, mentions or attachments; what features show on it from their own attributes is theirs
 * (messageParts.ts).
 */
export function messageFrameOf(message: StoredMessage): MessageFrame {
  const { roomId, seq, messageId, username, text, sentAt, deleted, replyTo, mentions } = message;
  const { attachments } = message;
  const { authorKey } = message;
  const parts: Partial<MessageFrame> = {};
  for (const part of messageParts) Object.assign(parts, part(message));
  const state: Partial<MessageFrame> = {};
  let changeSeq = message.changeSeq;
  for (const kind of changeKinds()) {
    const shown = kind.shown(message);
    if (shown.changeSeq !== undefined) changeSeq = Math.max(changeSeq ?? 0, shown.changeSeq);
    delete shown.changeSeq;
    Object.assign(state, shown);
  }
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
    ...parts,
    ...state,
    ...(changeSeq !== undefined && { changeSeq }),
  };
}

/** A change's frame, as its kind shows it (changeKinds/). */
export function changeFrameOf(item: StoredChange): ChangeFrame {
  const { roomId, seq, messageId, username, sentAt, targetSeq } = item;
  // Every stored change has a kind's `change`; an item of none (never written by this server) reads as a reaction,
  // as it always has.
  const kind = kindOfEvent(item.change) ?? CHANGE_KINDS.react;
  return kind.frame(item, { roomId, seq, messageId, username, sentAt, targetSeq });
}

/** Any item of a room's Messages table as the frame a member gets (with its reactions as read for that member). */
export function roomFrameOf(item: ChatMessage | StoredChange): RoomEventFrame {
  return isStoredChange(item) ? changeFrameOf(item) : messageFrameOf(item);
}

/** The message as the stored change left it, for the reply: the update its kind planned, applied to it as read. */
export function applied(
  message: StoredMessage,
  event: StoredChange,
  update: TargetUpdate | undefined,
): StoredMessage {
  const next: StoredMessage = { ...message, ...update?.set, changeSeq: event.seq };
  for (const field of update?.remove ?? []) delete next[field];
  if (update?.appendSeq) next[update.appendSeq] = [...(message[update.appendSeq] ?? []), event.seq];
  return next;
}
