import type {
  AttachmentFrame,
  BannedFrame,
  HistoryFrame,
  InfoFrame,
  JoinedFrame,
  KeyRotatedFrame,
  MemberRemovedFrame,
  MembersFrame,
  ModLogFrame,
  MutedFrame,
  MyThreadsFrame,
  ProfileFrame,
  PushSubscriptionFrame,
  PushSubscriptionJson,
  RoleChangedFrame,
  RoomChangedFrame,
  RoomClosedFrame,
  RoomInfo,
  RoomsFrame,
  RoomWordsFrame,
  SetProfileRequest,
  SlowModeFrame,
  ThreadFollowFrame,
  ThreadReadFrame,
  UnbannedFrame,
  UnmutedFrame,
  UploadFrame,
} from '../protocol';
import {
  DIRECTORY_LIMITS,
  MODERATION_LIMITS,
  MODERATION_PATTERNS,
  normalizeText,
  normalizeTitle,
} from '../protocol';
import { retrying } from './backoff';
import { ClientCore } from './core';
import { RoomcastError } from './errors';
import { CHANGE_RETRY, MessageChanges, REASK_CODES } from './messages';
import type { Requester } from './requests';
import { Safety } from './safety';
import type { RoomcastClientOptions } from './types';
import { checkName, checkRoomInfo, checkThreadOf } from './validate';

export { checkMessageText, checkRoomId } from './validate';

/**
 * A roomcast connection that stays up: it reconnects with full-jitter backoff, keeps the connection alive with
 * `ping`, rejoins its room and catches up through `history` after a reconnect, hands messages to the app once and
 * in seq order, and keeps unsent messages in an outbox that it flushes with their original clientMsgIds.
 * docs/CLIENT.md documents every option, event and guarantee.
 *
 * Its connection's side (state, lifecycle, the room on screen, sending, the parts and frames in) is ClientCore
 * (client/core.ts); this class adds the app's requests: rooms and profiles, attachments, push, history and threads,
 * the owner's and moderators' actions, message changes and safety.
 */
export class RoomcastClient extends ClientCore {
  // ---------------------------------------------------------------- requests

  /**
   * Creates a room and moves into it; `info` names it (`name`, `topic`) and `public: true` lists it in the directory
   * (a public room needs a name, unique among public rooms: NAME_TAKEN). Bad values are refused here
   * (INVALID_ARGUMENT), before any request.
   */
  async createRoom(info: RoomInfo = {}): Promise<JoinedFrame> {
    const checked = checkRoomInfo(info);
    if (checked.public === true && checked.name === undefined)
      throw new RoomcastError('INVALID_ARGUMENT', 'A public room needs a name.');
    const request =
      Object.keys(checked).length > 0 ? { action: 'createroom' as const, ...checked } : undefined;
    const joined = await this.acrossReconnects(() => this.session.requestJoin(undefined, undefined, request));
    this.session.enter(joined);
    return joined;
  }

  /**
   * Public rooms whose name starts with `prefix` (any case), in name order, at most `limit` (1–20); `after`: the
   * `next` of the page before. Join one with `join(roomId)`, no invite key.
   */
  async listRooms(prefix = '', options: { after?: string; limit?: number } = {}): Promise<RoomsFrame> {
    if (typeof prefix !== 'string' || [...prefix].length > DIRECTORY_LIMITS.roomNameMaxChars)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A name has at most ${DIRECTORY_LIMITS.roomNameMaxChars} characters.`,
      );
    const { after, limit } = options;
    if (
      limit !== undefined &&
      (!Number.isSafeInteger(limit) || limit < 1 || limit > DIRECTORY_LIMITS.listMax)
    )
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `limit must be a whole number from 1 to ${DIRECTORY_LIMITS.listMax}.`,
      );
    return this.acrossReconnects(() =>
      this.requests.send({
        action: 'listrooms',
        prefix,
        ...(after !== undefined && { after }),
        ...(limit !== undefined && { limit }),
      }),
    );
  }

  /**
   * Owner only (else FORBIDDEN): the room's name, topic, visibility or whether members pin (`membersPin`); `roomId`: a
   * followed room; absent: the shown.
   */
  async setRoom(info: RoomInfo, roomId?: string): Promise<RoomChangedFrame> {
    const checked = checkRoomInfo(info);
    if (Object.keys(checked).length === 0)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'setRoom changes name, topic, public or membersPin: give at least one.',
      );
    // Asked again when busy or answered too late (REASK_CODES): the same values again change nothing more.
    const ask = () =>
      this.requests.send({ action: 'setroom', ...checked, ...(roomId !== undefined && { roomId }) });
    return this.acrossReconnects(() => retrying(ask, CHANGE_RETRY, REASK_CODES));
  }

  /**
   * Signed-in only (else FORBIDDEN): this user's display name, status ('' clears it) and avatar (`{key}` of an
   * avatar upload of its own, from `requestAvatarUpload` and its POST; null clears it). Each room it belongs to gets
   * a `profile` event.
   */
  async setProfile(change: Omit<SetProfileRequest, 'action' | 'requestId'>): Promise<ProfileFrame> {
    if (
      change.displayName !== undefined &&
      normalizeTitle(change.displayName, DIRECTORY_LIMITS.displayNameMaxChars) === undefined
    )
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A display name is 1–${DIRECTORY_LIMITS.displayNameMaxChars} characters.`,
      );
    if (
      change.status !== undefined &&
      normalizeText(change.status, DIRECTORY_LIMITS.statusMaxChars) === undefined
    )
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A status is at most ${DIRECTORY_LIMITS.statusMaxChars} characters.`,
      );
    return this.acrossReconnects(() => this.requests.send({ action: 'setprofile', ...change }));
  }

  /**
   * Asks to upload an image, or a file of FILE_TYPES named `name`, of `contentType` and `size` bytes to the current
   * room: POST the answer's `fields`, then the file, to its `url` (docs/PROTOCOL.md, "Attachments"), then `send` a
   * message with the attachment (a file's with its `name`).
   */
  async requestUpload(contentType: string, size: number, name?: string): Promise<UploadFrame> {
    return this.acrossReconnects(() =>
      this.requests.send({ action: 'attach', contentType, size, ...(name !== undefined && { name }) }),
    );
  }

  /**
   * Signed-in only: asks to upload an image of `contentType` and `size` bytes as an avatar of this user's own, in no
   * room: POST the answer's `fields`, then the image, to its `url`, then `setProfile({ avatar: { key } })`.
   */
  async requestAvatarUpload(contentType: string, size: number): Promise<UploadFrame> {
    return this.acrossReconnects(() =>
      this.requests.send({ action: 'attach', contentType, size, purpose: 'avatar' }),
    );
  }

  /**
   * Push notifications (docs/PROTOCOL.md, "Push notifications"), signed in only: without `subscription`, the server's
   * VAPID public key to pass to `PushManager.subscribe` as `applicationServerKey`; with one (`subscription.toJSON()`),
   * stores it, so a mention, a direct message or a followed thread's reply reaches this browser while no connection
   * of this user is live.
   */
  async pushSubscribe(subscription?: PushSubscriptionJson): Promise<PushSubscriptionFrame> {
    return this.acrossReconnects(() =>
      this.requests.send({ action: 'pushsubscribe', ...(subscription && { subscription }) }),
    );
  }

  /** Removes this user's push subscription with `endpoint` (`stored`: whether one was there). */
  async pushUnsubscribe(endpoint: string): Promise<PushSubscriptionFrame> {
    return this.acrossReconnects(() => this.requests.send({ action: 'pushunsubscribe', endpoint }));
  }

  /**
   * A short-lived URL (a presigned GET) of an attachment of the current room: the version its message names
   * (`attachment.versionId`), whatever was uploaded under its key since.
   */
  async attachmentUrl(key: string, versionId: string): Promise<AttachmentFrame> {
    return this.acrossReconnects(() => this.requests.send({ action: 'getattachment', key, versionId }));
  }

  /**
   * A page of the current room's history: the latest `limit`, the first `limit` after `afterSeq`, or the last `limit`
   * before `beforeSeq` (scrolling back; `hasOlder` says whether older ones are kept).
   */
  async history(
    query: { afterSeq?: number; beforeSeq?: number; limit?: number } = {},
  ): Promise<HistoryFrame> {
    return this.acrossReconnects(() => this.session.history(query));
  }

  /**
   * A page of the thread of message `threadOf` in the current room: its replies (the latest `limit`, or those after
   * `afterSeq` or before `beforeSeq`) in their final state, its `root` as it is now, and whether you follow it.
   */
  async threadHistory(
    threadOf: number,
    query: { afterSeq?: number; beforeSeq?: number; limit?: number } = {},
  ): Promise<HistoryFrame> {
    checkThreadOf(threadOf, undefined);
    return this.acrossReconnects(() => this.requests.send({ action: 'history', threadOf, ...query }));
  }

  /**
   * Follows (or, with `false`, stops following) the thread of message `seq` of the current room: a signed-in
   * follower is told of each reply on its other devices (`mention` with `threadOf`). Replying follows a thread.
   */
  async followThread(seq: number, follow = true): Promise<ThreadFollowFrame> {
    checkThreadOf(seq, undefined);
    return this.acrossReconnects(() => this.requests.send({ action: 'followthread', seq, follow }));
  }

  /**
   * Marks the replies of the thread of message `seq` read (a thread you follow, of `roomId`, else of the current
   * room): the Threads view counts none of them unread from now on, and your other devices are told (`threadread`).
   */
  async threadRead(seq: number, roomId?: string): Promise<ThreadReadFrame> {
    checkThreadOf(seq, undefined);
    return this.acrossReconnects(() =>
      this.requests.send({ action: 'threadread', seq, ...(roomId !== undefined && { roomId }) }),
    );
  }

  /**
   * The threads you follow across your rooms (the Threads view), newest activity first, each with its room, its
   * root, its summary and `unread`: replies since you last opened its page (`threadHistory`) or replied.
   */
  async myThreads(): Promise<MyThreadsFrame> {
    return this.acrossReconnects(() => this.requests.send({ action: 'mythreads' }));
  }

  /** Who is in the current room; also updates `members`. */
  async who(): Promise<MembersFrame> {
    const frame = await this.acrossReconnects(() => this.requests.send({ action: 'who' }));
    this.session.setMembers(frame.roomId, frame.members, frame.memberCount);
    return frame;
  }

  /** Owner only (else FORBIDDEN): a new invite key for the current room; the old one stops working. */
  rotateKey = (): Promise<KeyRotatedFrame> => this.session.asOwner({ action: 'rotatekey' });
  /** Owner only: moves the member showing `username` out of the current room, and rotates the key. */
  removeMember = (name: string): Promise<MemberRemovedFrame> =>
    this.session.asOwner({ action: 'removemember', username: name });
  /** Owner only: closes the current room for good; every member, this client too, goes to the lobby. */
  closeRoom = (): Promise<RoomClosedFrame> => this.session.asOwner({ action: 'closeroom' });

  /** Owner only: makes the member showing `name` a moderator of the current room, or a moderator a member. */
  setRole = (name: string, role: 'moderator' | 'member'): Promise<RoleChangedFrame> =>
    this.moderate({ action: 'setrole', username: checkName(name), role });
  /**
   * Owner or moderator: mutes the member showing `name` in the current room for `minutes` (1 to
   * MODERATION_LIMITS.muteMaxMinutes), or until `unmute` when `minutes` is absent; it still reads.
   */
  mute = (name: string, options: { minutes?: number } = {}): Promise<MutedFrame> => {
    const { minutes } = options;
    if (
      minutes !== undefined &&
      (!Number.isInteger(minutes) || minutes < 1 || minutes > MODERATION_LIMITS.muteMaxMinutes)
    )
      return Promise.reject(
        new RoomcastError('INVALID_ARGUMENT', `minutes must be 1 to ${MODERATION_LIMITS.muteMaxMinutes}.`),
      );
    return this.moderate({
      action: 'mute',
      username: checkName(name),
      ...(minutes !== undefined && { minutes }),
    });
  };
  /** Owner or moderator: ends the mute of the member named `name`. */
  unmute = (name: string): Promise<UnmutedFrame> =>
    this.moderate({ action: 'unmute', username: checkName(name) });
  /**
   * Owner or moderator: removes the member showing `name` as `removeMember` does and bans its identity from the room
   * (joins refused BANNED); the reply's `inviteKey` is the room's new key.
   */
  ban = (name: string): Promise<BannedFrame> => this.session.asOwner({ action: 'ban', username: name });
  /** Owner or moderator: lifts the ban of the member named `name`. */
  unban = (name: string): Promise<UnbannedFrame> =>
    this.moderate({ action: 'unban', username: checkName(name) });
  /**
   * Owner or moderator: the current room's moderation log (or `roomId`'s, a room you follow), newest first, `limit`
   * (1–50, absent 50) a page, `before` the `next` of the page before; the first page also says who is muted and banned.
   */
  modLog = (page: { roomId?: string; limit?: number; before?: string } = {}): Promise<ModLogFrame> => {
    const { roomId, limit, before } = page;
    const max = MODERATION_LIMITS.logListed;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > max))
      return Promise.reject(new RoomcastError('INVALID_ARGUMENT', `limit must be 1 to ${max}.`));
    if (before !== undefined && !new RegExp(MODERATION_PATTERNS.logCursor).test(before))
      return Promise.reject(
        new RoomcastError('INVALID_ARGUMENT', 'before must be the next of a modlog page.'),
      );
    return this.moderate({
      action: 'modlog',
      ...(roomId !== undefined && { roomId }),
      ...(limit !== undefined && { limit }),
      ...(before !== undefined && { before }),
    });
  };
  /** Owner only: one message per `seconds` per member in the current room (owner and moderators exempt); 0: off. */
  setSlowMode = (seconds: number): Promise<SlowModeFrame> => {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MODERATION_LIMITS.slowModeMaxSeconds)
      return Promise.reject(
        new RoomcastError(
          'INVALID_ARGUMENT',
          `seconds must be 0 to ${MODERATION_LIMITS.slowModeMaxSeconds}.`,
        ),
      );
    return this.moderate({ action: 'slowmode', seconds });
  };
  /**
   * Owner only: the current room's own filtered words, replacing the ones it had ([] clears them): a message or an
   * edit holding one is refused FILTERED. The server checks each word (`BAD_REQUEST` naming "words").
   */
  setRoomWords = (words: string[]): Promise<RoomWordsFrame> => {
    if (!Array.isArray(words) || words.length > MODERATION_LIMITS.roomWordsMax)
      return Promise.reject(
        new RoomcastError(
          'INVALID_ARGUMENT',
          `words must be a list of at most ${MODERATION_LIMITS.roomWordsMax}.`,
        ),
      );
    return this.moderate({ action: 'roomwords', words });
  };

  /** A request once the client is ready, again after a reconnect that lost the answer; typed by its action. */
  private readonly moderate: Requester = (frame) => this.acrossReconnects(() => this.requests.send(frame));

  /** Edit, delete and react to messages (client/messages.ts); every reply is also the `changed` event. */
  readonly messages = new MessageChanges(
    (frame) => this.acrossReconnects(() => this.requests.send(frame)),
    (reply) => this.emit('changed', reply),
  );

  /** Blocking people and reporting messages (client/safety.ts). */
  readonly safety = new Safety((frame) => this.acrossReconnects(() => this.requests.send(frame)));

  /** The connection's details as the server sees them (`$default`). */
  async info(): Promise<InfoFrame> {
    // `info` is no action: `$default` answers it, with the connection's info.
    return (await this.acrossReconnects(() =>
      this.requests.sendFrame({ action: 'info' }),
    )) as unknown as InfoFrame;
  }
}

/** Opens a roomcast connection; see RoomcastClient and docs/CLIENT.md. */
export function createRoomcastClient(options: RoomcastClientOptions): RoomcastClient {
  return new RoomcastClient(options);
}
