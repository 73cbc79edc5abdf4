import { EditWindowPassed, NotAuthor } from '#core/changeErrors';
import { roleIn } from '#core/moderation';
import { type ChangeKind, UNCHANGED } from './kind';

/**
 * `deletemessage`: the author within the edit window, or the room's owner or a moderator at any time, leaves a tombstone
 * (`deleted`: who did it) and no copy of the text: the message's text and `editedAt` go, and each earlier edit event
 * loses its text in the same transaction (`scrub`). Deleting a deleted message is no change (a retry finds what it
 * asked for). A deleted message leaves the room's pins too (functions/pins/).
 */
export const remove: ChangeKind<{ kind: 'delete' }> = {
  kind: 'delete',
  event: 'deleted',
  parse: () => ({ kind: 'delete' }),
  // The tombstone keeps no text, nor does the event.
  cost: { name: 'delete', message: { text: false, addedBytes: 0 }, eventText: false },
  onDeleted: true,
  plan(message, _request, { changer, isAuthor, inWindow, windowMinutes }) {
    if (message.deleted) return UNCHANGED;
    const role = roleIn(changer.room, { userId: changer.connection.userId, key: changer.key });
    let by: 'author' | 'owner' | 'moderator' | undefined;
    if (isAuthor && inWindow) by = 'author';
    else if (role !== 'member') by = role;
    else if (isAuthor)
      throw new EditWindowPassed(
        `Messages can be deleted for ${windowMinutes} minutes after sending; this one is older.`,
      );
    else throw new NotAuthor("Only its author (or the room's owner or a moderator) can delete this message.");
    // A deleted message leaves the room's pins in the same transaction.
    const pinned = message.pinnedAt !== undefined;
    return {
      kind: 'change',
      update: {
        set: { deleted: by },
        remove: pinned ? ['text', 'editedAt', 'pinnedAt', 'pinnedBy'] : ['text', 'editedAt'],
        scrub: message.editSeqs ?? [],
        ...(pinned && { pins: { remove: message.seq } }),
      },
      event: { by },
    };
  },
  frame: (item, common) => ({
    type: 'deleted',
    ...common,
    by: item.by === 'owner' || item.by === 'moderator' ? item.by : 'author',
  }),
  shown: ({ deleted }) => (deleted !== undefined ? { deleted } : {}),
  // A staff delete is moderation; an author's own delete is not, and keeps no row.
  audited: ({ by }) => (by === 'owner' || by === 'moderator' ? 'deletemessage' : undefined),
};
