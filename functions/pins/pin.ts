import { ChangeLimit, NotAuthor } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { roleIn } from '#core/moderation';
import type { Connection, Room } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { CHANGE_LIMITS, type ChangeEvent, type Pin, type PinnedFrame } from '#protocol';

/**
 * `pinmessage`, a change kind (functions/messages/changeKinds/kind.ts ChangeKind; typed here by shape, as pins import
 * no messages module: the messages function lists this kind in its changeKinds/index.ts): the room's owner or a
 * moderator (any member too when the owner set `membersPin`, setroom) pins a message not deleted to its room (or with
 * `remove` unpins it), the room as read deciding; pinning a pinned message, or unpinning one that is not, is no
 * change. At most `pinsPerRoom` are pinned at once: the count as read refuses clearly here, and the pins item's
 * condition holds the cap against racing pins (dynamoPins.ts pinsWrite). The lobby has no owner and no pins. The
 * message keeps `pinnedAt` and `pinnedBy`; a delete unpins it (messages/changeKinds/delete.ts). Every pin and unpin
 * goes on the room's moderation log (`audited`): the owner or a moderator curating the room, or a member the owner
 * let pin (the row names the role).
 */

/** A pin (or with `remove`, an unpin) as its frame asks it. */
type PinRequest = { kind: 'pin'; remove: boolean };

/** What the rule reads of the message (changeKinds/kind.ts StoredMessage). */
interface PinnedMessage {
  roomId: string;
  seq: number;
  pinnedAt?: string;
  pinnedBy?: string;
}

/** What the rule reads of who asks (changeKinds/kind.ts Changer): the room as read and its pins as counted. */
interface PinContext {
  changer: { connection: Connection; key: string; room: Room | undefined; pinCount?: number };
  now: Date;
}

/** What a pin or an unpin does (changeKinds/kind.ts Plan): the message's marks and the room's pins item. */
type PinPlan =
  | { kind: 'unchanged' }
  | {
      kind: 'change';
      update: {
        set?: { pinnedAt: string; pinnedBy: string };
        remove?: ('pinnedAt' | 'pinnedBy')[];
        pins: { add: Pin } | { remove: number };
      };
      event: { pinned: boolean };
    };

/** Bytes of one pin on the room's pins item (dynamoPins.ts: `p<seq>` = { by, at }). */
const PIN_BYTES = 60;
/** Pins a priced room holds already when another one comes (its cap is `pinsPerRoom`, 50). */
const PINS_BEFORE = 25;

export const pin = {
  kind: 'pin' as const,
  event: 'pinned' as const,
  parse(body: Record<string, unknown>): PinRequest {
    if (body.remove !== undefined && typeof body.remove !== 'boolean')
      throw new BadRequest('"remove" must be true or false.');
    return { kind: 'pin', remove: body.remove === true };
  },
  // The message's item gains its marks; the room's pins item is read and rewritten in the same transaction.
  cost: {
    name: `pin (in a room with ${PINS_BEFORE})`,
    message: { text: true, addedBytes: PIN_BYTES },
    eventText: false,
    sideItemBytes: (PINS_BEFORE + 1) * PIN_BYTES,
  },
  plan(message: PinnedMessage, request: PinRequest, { changer, now }: PinContext): PinPlan {
    if (changer.room === undefined || message.roomId === LOBBY)
      throw new BadRequest('Messages can be pinned in rooms only, not in the lobby.');
    const role = roleIn(changer.room, { userId: changer.connection.userId, key: changer.key });
    if (role === 'member' && changer.room.membersPin !== true)
      throw new NotAuthor(
        'Only the room\'s owner or a moderator can pin or unpin messages here (the owner may let members pin: setroom "membersPin").',
      );
    const pinned = message.pinnedAt !== undefined;
    if (pinned !== request.remove) return { kind: 'unchanged' };
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
  frame: (item: Readonly<Record<string, unknown>>, common: ChangeEvent): PinnedFrame => ({
    type: 'pinned',
    ...common,
    pinned: item.pinned === true,
  }),
  shown: ({ pinnedAt, pinnedBy }: PinnedMessage): { pinnedAt?: string; pinnedBy?: string } =>
    pinnedAt !== undefined ? { pinnedAt, ...(pinnedBy !== undefined && { pinnedBy }) } : {},
  audited: (event: Readonly<Record<string, unknown>>): string =>
    event.pinned === true ? 'pinmessage' : 'unpinmessage',
};

/** A pin past the room's cap: refused on the count as read, or by the pins item's condition (a racing pin came first). */
export const pinsLimit = () =>
  new ChangeLimit(
    `This room has ${CHANGE_LIMITS.pinsPerRoom} pinned messages, as many as it can have; unpin one to pin another.`,
  );
