import { ChangeLimit, EditWindowPassed, NotAuthor } from '#core/changeErrors';
import { parseMessageText, requireString } from '#core/protocol';
import { CHANGE_LIMITS } from '#protocol';
import { type ChangeKind, UNCHANGED } from './kind';

/**
 * `editmessage`: the author replaces its message's text, within the edit window, of a message not deleted, at most
 * `editsPerMessage` times (a delete scrubs each edit's text in one transaction, delete.ts). Asking for the text it
 * has is no change. The message keeps `editedAt` and the seqs of its edits (`editSeqs`).
 */
export const edit: ChangeKind<{ kind: 'edit'; text: string }> = {
  kind: 'edit',
  event: 'edited',
  parse: (body) => ({ kind: 'edit', text: parseMessageText(requireString(body, 'message')) }),
  // The message's item and the edit event both carry the new text.
  cost: { name: 'edit', message: { text: true, addedBytes: 0 }, eventText: true },
  plan(message, { text }, { isAuthor, inWindow, windowMinutes, now }) {
    if (!isAuthor) throw new NotAuthor('Only its author can edit this message.');
    if (!inWindow)
      throw new EditWindowPassed(
        `Messages can be edited for ${windowMinutes} minutes after sending; this one is older.`,
      );
    if (text === message.text) return UNCHANGED;
    if ((message.editSeqs?.length ?? 0) >= CHANGE_LIMITS.editsPerMessage)
      throw new ChangeLimit(
        `A message can be edited ${CHANGE_LIMITS.editsPerMessage} times; send a new one.`,
      );
    return {
      kind: 'change',
      update: { set: { text, editedAt: now.toISOString() }, appendSeq: 'editSeqs' },
      event: { text },
    };
  },
  // An edit whose message was deleted since has its text scrubbed (delete.ts).
  frame: (item, common) => ({
    type: 'edited',
    ...common,
    text: item.scrubbed ? '' : String(item.text ?? ''),
  }),
  shown: ({ editedAt }) => (editedAt !== undefined ? { editedAt } : {}),
};
