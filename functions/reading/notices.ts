import { BadRequest, NotAllowed } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import { memberKeyOf } from '#core/memberKeys';
import type { ChatPorts } from '#core/ports';
import { LOBBY } from '#core/protocol';
import {
  isNoticeChoice,
  NOTICE_CHOICES,
  type NoticeChoice,
  type NoticesFrame,
  normalizeRoomId,
} from '#protocol';

/**
 * A member's notices per room (protocol/notices.ts): kept on its membership of the room (the Memberships table item
 * `memberKey`, `roomId`: the person's own data about the room, beside its read position), so `myrooms` gives them to
 * every device of the person with the room, and they go when the membership goes (leaving the room). The default,
 * `all`, is stored as no attribute.
 */
export interface NoticeStore {
  /** Stores `notices` on the membership; false when `memberKey` has no membership of `roomId` (none is made). */
  setNotices(memberKey: string, roomId: string, notices: NoticeChoice): Promise<boolean>;
}

/** setnotices' body: a room code and one of NOTICE_CHOICES, else BAD_REQUEST saying which field is wrong. */
export function parseNotices(body: Record<string, unknown>): { roomId: string; notices: NoticeChoice } {
  const roomId = typeof body.roomId === 'string' ? normalizeRoomId(body.roomId) : undefined;
  if (roomId === undefined || roomId === LOBBY)
    throw new BadRequest('"roomId" must be the code of one of your rooms, as myrooms lists it.');
  if (!isNoticeChoice(body.notices))
    throw new BadRequest(`"notices" must be one of ${NOTICE_CHOICES.map((c) => `"${c}"`).join(', ')}.`);
  return { roomId, notices: body.notices };
}

/**
 * Sets the caller's notices in one of its rooms (one conditional UpdateItem of its membership) and tells the
 * person's other connections (otherDevices.ts), which show and apply the same choice at once.
 */
export async function setNotices(
  deps: Pick<ChatPorts, 'connections'> & { notices: NoticeStore; otherDevices?: OtherDevices },
  connectionId: string,
  change: { roomId: string; notices: NoticeChoice },
): Promise<NoticesFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId, notices } = change;
  if (!(await deps.notices.setNotices(memberKeyOf(connection), roomId, notices)))
    throw new NotAllowed(`Room ${roomId} is not one of your rooms: join it first, then choose its notices.`);
  const answer: NoticesFrame = { type: 'notices', roomId, notices };
  if (deps.otherDevices) await tellOtherDevices(deps.otherDevices, connection, answer);
  return answer;
}
