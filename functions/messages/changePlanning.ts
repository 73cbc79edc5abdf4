import type { Connection, Room } from '#core/ports';
import { CHANGE_LIMITS } from '#protocol';
import { ChangeLimit, EditWindowPassed, MessageDeleted, NotAuthor } from './changeErrors';
import type { StoredMessage } from './changeFrames';
import type { ReactionState, TargetUpdate } from './ports';

/** What a member asks to change about a message. */
export type ChangeRequest =
  | { kind: 'edit'; text: string }
  | { kind: 'delete' }
  | { kind: 'react'; reaction: string; remove: boolean };

/** Who asks, as the rules need it: its key in the room, and whether it owns the room. */
export interface Changer {
  connection: Connection;
  key: string;
  room: Room | undefined;
}

/** The update and the event's own fields, or `unchanged` when the message is already as asked. */
export type Plan =
  | { kind: 'unchanged' }
  | {
      kind: 'change';
      update: TargetUpdate;
      event: { text?: string; by?: 'author' | 'owner'; reaction?: string; added?: boolean; count?: number };
    };

const UNCHANGED: Plan = { kind: 'unchanged' };
const NO_REACTIONS: ReactionState = { summary: undefined, given: [] };

/**
 * The rules of a change, applied to the message as read (the transaction then holds it to that state):
 * - edit: the author, within the edit window, of a message not deleted, at most `editsPerMessage` times;
 * - delete: the author within the edit window, or the room's owner at any time; deleting a deleted message is
 *   no change (a retry finds what it asked for);
 * - react: anyone in the room, on a message not deleted; adding a reaction it gave, or removing one it did not, is
 *   no change; at most `reactionKinds` different reactions and `reactionsPerMessage` in all, and at most
 *   `reactionKindsPerMember` different ones from one member (so nobody can take all of a message's kinds). Its
 *   state is `reactions` (the message's summary and the member's own, from the Reactions table); its event's
 *   `count` is set once the reaction is counted (changing.ts).
 */
export function planChange(
  message: StoredMessage,
  request: ChangeRequest,
  changer: Changer,
  now: Date,
  editWindowMs: number,
  reactions: ReactionState = NO_REACTIONS,
): Plan {
  const asker: Asker = {
    isAuthor: message.authorKey !== undefined && message.authorKey === changer.key,
    inWindow: now.getTime() - Date.parse(message.sentAt) <= editWindowMs,
    minutes: Math.round(editWindowMs / 60_000),
  };
  if (request.kind === 'delete') return planDelete(message, changer, asker);
  if (message.deleted) throw new MessageDeleted(`Message ${message.seq} was deleted.`);
  if (request.kind === 'edit') return planEdit(message, request.text, asker, now);
  return planReaction(request, reactions);
}

/** The asker as the edit window sees it: whether it wrote the message, and whether the window is still open. */
interface Asker {
  isAuthor: boolean;
  inWindow: boolean;
  /** The window's length, for the refusal. */
  minutes: number;
}

function planDelete(message: StoredMessage, changer: Changer, { isAuthor, inWindow, minutes }: Asker): Plan {
  if (message.deleted) return UNCHANGED;
  const owner = changer.room?.ownerId !== undefined && changer.room.ownerId === changer.connection.userId;
  let by: 'author' | 'owner' | undefined;
  if (isAuthor && inWindow) by = 'author';
  else if (owner) by = 'owner';
  else if (isAuthor)
    throw new EditWindowPassed(
      `Messages can be deleted for ${minutes} minutes after sending; this one is older.`,
    );
  else throw new NotAuthor("Only its author (or the room's owner) can delete this message.");
  return { kind: 'change', update: { kind: 'delete', by, scrub: message.editSeqs ?? [] }, event: { by } };
}

function planEdit(
  message: StoredMessage,
  text: string,
  { isAuthor, inWindow, minutes }: Asker,
  now: Date,
): Plan {
  if (!isAuthor) throw new NotAuthor('Only its author can edit this message.');
  if (!inWindow)
    throw new EditWindowPassed(
      `Messages can be edited for ${minutes} minutes after sending; this one is older.`,
    );
  if (text === message.text) return UNCHANGED;
  if ((message.editSeqs?.length ?? 0) >= CHANGE_LIMITS.editsPerMessage)
    throw new ChangeLimit(`A message can be edited ${CHANGE_LIMITS.editsPerMessage} times; send a new one.`);
  return {
    kind: 'change',
    update: { kind: 'edit', text, editedAt: now.toISOString() },
    event: { text },
  };
}

function planReaction(
  request: Extract<ChangeRequest, { kind: 'react' }>,
  { summary, given }: ReactionState,
): Plan {
  const mine = given.includes(request.reaction);
  if (mine !== request.remove) return UNCHANGED;
  // Adding: the caps as read, for a clear refusal before anything is written. The Reactions table's conditions hold
  // them against racing members too (messages/dynamoReactions.ts).
  if (!request.remove) {
    const counts = summary?.counts ?? {};
    if (counts[request.reaction] === undefined && Object.keys(counts).length >= CHANGE_LIMITS.reactionKinds)
      throw kindsLimit();
    if ((summary?.total ?? 0) >= CHANGE_LIMITS.reactionsPerMessage) throw totalLimit();
    if (given.length >= CHANGE_LIMITS.reactionKindsPerMember) throw memberLimit();
  }
  return {
    kind: 'change',
    update: { kind: 'react' },
    event: { reaction: request.reaction, added: !request.remove },
  };
}

export const kindsLimit = () =>
  new ChangeLimit(`This message has ${CHANGE_LIMITS.reactionKinds} different reactions; add one of those.`);
export const totalLimit = () => new ChangeLimit('This message has as many reactions as it can carry.');
export const memberLimit = () =>
  new ChangeLimit(
    `You can give one message ${CHANGE_LIMITS.reactionKindsPerMember} different reactions; take one back to add another.`,
  );
