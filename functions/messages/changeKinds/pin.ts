import { ChangeLimit, NotAuthor } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { roleIn } from '#core/moderation';
import { LOBBY } from '#core/protocol';
import { CHANGE_LIMITS } from '#protocol';
import { type ChangeKind, UNCHANGED } from './kind';

/**
 * `pinmessage`: the room's owner or a moderator (any member too when the owner set `membersPin`, setroom) pins a
 * message not deleted to its room (or with `remove` unpins it), the room as read deciding; pinning a
 * pinned message, or unpinning one that is not, is no change. At most `pinsPerRoom` are pinned at once: the count as
 * read refuses clearly here, and the pins item's condition holds the cap against racing pins (dynamoChanges.ts).
 * The lobby has no owner and no pins. The message keeps `pinnedAt` and `pinnedBy`; a delete unpins it (delete.ts).
 */
export const pin: ChangeKind<{ kind: 'pin'; remove: boolean }> = {
  kind: 'pin',
  event: 'pinned',
  parse(body) {
    if (body.remove !== undefined && typeof body.remove !== 'boolean')
      throw new BadRequest('"remove" must be true or false.');
    return { kind: 'pin', remove: body.remove === true };
  },
  plan(message, request, { changer, now }) {
    if (changer.room === undefined || message.roomId === LOBBY)
      throw new BadRequest('Messages can be pinned in rooms only, not in the lobby.');
    const role = roleIn(changer.room, { userId: changer.connection.userId, key: changer.key });
    if (role === 'member' && changer.room.membersPin !== true)
      throw new NotAuthor(
        'Only the room\'s owner or a moderator can pin or unpin messages here (the owner may let members pin: setroom "membersPin").',
      );
    const pinned = message.pinnedAt !== undefined;
    if (pinned !== request.remove) return UNCHANGED;
    if (request.remove)
      return {
        kind: 'change',
        update: { remove: ['pinnedAt', 'pinnedBy'], pins: { remove: message.seq } },
        event: { pinned: false },
      };
    if ((changer.pinCount ?? 0) >= CHANGE_LIMITS.pinsPerRoom) throw pinsLimit();
    const at = now.toISOString();
    const by = changer.connection.username;
    return {
      kind: 'change',
      update: { set: { pinnedAt: at, pinnedBy: by }, pins: { add: { seq: message.seq, by, at } } },
      event: { pinned: true },
    };
  },
  frame: (item, common) => ({ type: 'pinned', ...common, pinned: item.pinned === true }),
  shown: ({ pinnedAt, pinnedBy }) =>
    pinnedAt !== undefined ? { pinnedAt, ...(pinnedBy !== undefined && { pinnedBy }) } : {},
};

export const pinsLimit = () =>
  new ChangeLimit(
    `This room has ${CHANGE_LIMITS.pinsPerRoom} pinned messages, as many as it can have; unpin one to pin another.`,
  );
