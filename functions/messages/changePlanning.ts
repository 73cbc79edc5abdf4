import { MessageDeleted } from '#core/changeErrors';
import { type ChangeRequest, type Changer, kindOf, type Plan, type StoredMessage } from './changeKinds';
import type { ReactionState } from './changeKinds/kind';

export type { ChangeRequest, Changer, Plan } from './changeKinds';

const NO_REACTIONS: ReactionState = { summary: undefined, given: [] };

/**
 * The rules of a change, applied to the message as read (the transaction then holds it to that state): what the
 * kinds share is said here (who is the author, whether the edit window is open, that a deleted message takes no
 * change but a delete), the rest by the request's kind (changeKinds/). `reactions` is the message's summary and the
 * member's own, from the Reactions table, for a reaction.
 */
export function planChange(
  message: StoredMessage,
  request: ChangeRequest,
  changer: Changer,
  now: Date,
  editWindowMs: number,
  reactions: ReactionState = NO_REACTIONS,
): Plan {
  const kind = kindOf(request);
  if (message.deleted && !kind.onDeleted) throw new MessageDeleted(`Message ${message.seq} was deleted.`);
  return kind.plan(message, request, {
    changer,
    now,
    isAuthor: message.authorKey !== undefined && message.authorKey === changer.key,
    inWindow: now.getTime() - Date.parse(message.sentAt) <= editWindowMs,
    windowMinutes: Math.round(editWindowMs / 60_000),
    reactions,
  });
}
