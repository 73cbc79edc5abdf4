/**
 * A member's notice choice per room, kept by the server so every device of the person shows and applies the same one:
 * every mention, direct message and reply notifies (`all`, the default), mentions only, or none (`mute`: the member
 * muting the room's notices, not a moderator muting the member). `setnotices` stores it on the member's membership of
 * the room; `myrooms` lists it with each room; the person's other signed-in connections get the same `notices` frame
 * without `requestId` at once. docs/PROTOCOL.md ("Read positions, your rooms, direct messages") explains it;
 * protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** What a room's notices may be; `all` is the default, stored as nothing. */
export const NOTICE_CHOICES = ['all', 'mentions', 'mute'] as const;
export type NoticeChoice = (typeof NOTICE_CHOICES)[number];

export const isNoticeChoice = (value: unknown): value is NoticeChoice =>
  NOTICE_CHOICES.includes(value as NoticeChoice);

export const NOTICES_ACTIONS = ['setnotices'] as const;
export type NoticesAction = (typeof NOTICES_ACTIONS)[number];

/** Sets the caller's notices in `roomId`, one of its rooms (a membership: `myrooms` lists it). */
export interface SetNoticesRequest {
  action: 'setnotices';
  roomId: string;
  notices: NoticeChoice;
  requestId?: string;
}
export type NoticesRequest = SetNoticesRequest;

/**
 * The caller's notices in `roomId` as stored: the reply to `setnotices`, and pushed without `requestId` to the
 * person's other connections when a signed-in user changed them.
 */
export interface NoticesFrame {
  type: 'notices';
  roomId: string;
  notices: NoticeChoice;
  requestId?: string;
}

export const NOTICES_FRAME_TYPES = ['notices'] as const;
export const NOTICES_REPLY_TYPE = { setnotices: 'notices' } as const;
