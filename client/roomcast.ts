import type {
  AckFrame,
  AttachmentFrame,
  BannedFrame,
  BroadcastFrame,
  ChangedFrame,
  ErrorFrame,
  HistoryFrame,
  InfoFrame,
  JoinedFrame,
  KeyRotatedFrame,
  LeftFrame,
  MemberRemovedFrame,
  MembersFrame,
  MentionFrame,
  MutedFrame,
  ProfileFrame,
  PushSubscriptionFrame,
  PushSubscriptionJson,
  ReportedFrame,
  ReportResolvedFrame,
  RoleChangedFrame,
  RoomChangedFrame,
  RoomClosedFrame,
  RoomEventFrame,
  RoomInfo,
  RoomsFrame,
  SetProfileRequest,
  SlowModeFrame,
  ThreadFollowFrame,
  UnbannedFrame,
  UnmutedFrame,
  UploadFrame,
} from '../protocol';
import {
  CHANGE_FRAME_TYPES,
  DIRECTORY_LIMITS,
  ERROR_CODES,
  GATEWAY,
  LIMITS,
  MODERATION_LIMITS,
  normalizeText,
  normalizeTitle,
  REPLY_TYPE,
  SERVER_FRAME_TYPES,
  utf8Bytes,
} from '../protocol';
import type { BackoffPolicy } from './backoff';
import { DEFAULT_BACKOFF } from './backoff';
import { Connection } from './connection';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import { MemberRooms } from './members';
import { MessageChanges } from './messages';
import { Outbox } from './outbox';
import { type Requester, Requests } from './requests';
import { Safety } from './safety';
import { RoomSession } from './session';
import type {
  ConnectionState,
  ModerationNotice,
  RoomcastClientOptions,
  RoomcastEvents,
  SendOptions,
  SessionEvents,
  SocketLike,
  StateChange,
} from './types';
import { Typing } from './typing';
import {
  checkMessageText,
  checkReplyTo,
  checkRoomId,
  checkThreadOf,
  presencesOf,
  resumeTokenOf,
  socketOf,
} from './validate';

export { checkMessageText, checkRoomId } from './validate';

const FRAME_TYPES = new Set<string>(SERVER_FRAME_TYPES);
const SERVER_CODES = new Set<string>(ERROR_CODES);
/** The current room's stream, handed to the app in seq order by the session's sequencer. */
const ROOM_FRAMES = new Set<string>(['message', 'batch', 'resync', ...CHANGE_FRAME_TYPES]);
/** Every action's reply type (one after its request timed out has nobody waiting); notices a module takes itself. */
const LATE_REPLIES = new Set<string>([...Object.values(REPLY_TYPE), 'info', 'dmopened']);
/** Moderation frames the server pushes to members (not only as replies): the `moderation` event. */
const MODERATION_NOTICES = new Set<string>(['rolechanged', 'muted', 'unmuted', 'slowmode']);

/** A member's name as a moderation action takes it (the member list's). */
function checkName(name: string): string {
  if (typeof name !== 'string' || name === '')
    throw new RoomcastError('INVALID_ARGUMENT', 'username must be the name of a member of the room.');
  return name;
}

/**
 * A roomcast connection that stays up: it reconnects with full-jitter backoff, keeps the connection alive with
 * `ping`, rejoins its room and catches up through `history` after a reconnect, hands messages to the app once and
 * in seq order, and keeps unsent messages in an outbox that it flushes with their original clientMsgIds.
 * docs/CLIENT.md documents every option, event and guarantee.
 *
 * It is the app-facing front of four parts: the connection manager (client/connection.ts: socket, keepalive,
 * backoff, the 2-hour recycle), the requests waiting for replies (client/requests.ts), the room session
 * (client/session.ts: join with key, resume, history fill, sequencer) and the outbox (client/outbox.ts). It owns
 * the public state and routes each frame to the part it concerns.
 */
export class RoomcastClient extends Emitter<RoomcastEvents> {
  private readonly requestTimeoutMs: number;
  private readonly lean: boolean;
  private current: ConnectionState = 'idle';
  private nextId = 0;
  private readonly idPrefix: string;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: RoomcastError) => void }> = [];
  private readonly connection: Connection;
  private readonly requests: Requests;
  private readonly session: RoomSession;
  private readonly outbox: Outbox;
  readonly typing: Typing;
  readonly rooms: MemberRooms; // read positions, "my rooms" and direct messages (client/members.ts)

  constructor(options: RoomcastClientOptions) {
    super();
    const Socket = socketOf(options);
    const random = options.random ?? Math.random;
    const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.lean = options.lean ?? false;
    this.idPrefix = Math.floor(random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    const write = (frame: Record<string, unknown>) => this.connection.send(JSON.stringify(frame));
    this.connection = new Connection(
      {
        url: options.url,
        username: options.username,
        resume: resumeTokenOf(options),
        token: options.token,
        getToken: options.getToken,
        Socket,
        keepaliveMs: options.keepaliveMs ?? GATEWAY.idleTimeoutMs - 60_000,
        maxConnectionMs: options.maxConnectionMs ?? GATEWAY.maxConnectionMs - 5 * 60_000,
        timeoutMs: this.requestTimeoutMs,
        backoff,
        random,
        lean: this.lean,
      },
      {
        connecting: () => this.setState({ state: 'connecting' }),
        open: (socket) => void this.onOpen(socket),
        text: (text) => this.onText(text),
        closed: (code, reason, error) => this.onClosed(code, reason, error),
        reconnecting: (attempt, delayMs, reason) =>
          this.setState({ state: 'reconnecting', attempt, delayMs, reason }),
        failed: (error) => this.setState({ state: 'failed', reason: error.message, error }),
        error: (error) => this.emit('error', error),
        closedByApp: (code, reason) => this.emit('close', { code, reason }),
      },
    );
    this.requests = new Requests(this.requestTimeoutMs, () => this.newId('r'), write);
    this.session = new RoomSession(
      {
        request: (frame) => this.requests.send(frame),
        emit: (event, value) => {
          // A followed room not on screen: its room object's events only (client.rooms.get(id)).
          if (event === 'otherroom') {
            const other = value as SessionEvents['otherroom'];
            this.rooms.elsewhere(other.roomId, other.events);
            return;
          }
          this.emit(event as keyof RoomcastEvents, value as never);
          // Lean (load tools): no room objects, every message is the client's own event only.
          if (!this.lean && (event === 'message' || event === 'change'))
            this.rooms.shownEvent(value as RoomEventFrame);
        },
      },
      {
        lean: this.lean,
        initialHistory: Math.min(
          LIMITS.historyMax,
          Math.max(1, options.initialHistory ?? LIMITS.historyDefault),
        ),
      },
    );
    this.outbox = new Outbox({
      limit: options.outboxLimit ?? 100,
      maxAttempts: options.maxSendAttempts ?? 5,
      timeoutMs: this.requestTimeoutMs,
      backoff,
      random,
      newId: () => this.newId('m'),
      write,
      canSend: () => this.current === 'ready',
      inOrder: !this.lean,
    });
    this.typing = new Typing(this, options.typingHeartbeatMs);
    this.rooms = new MemberRooms(this, options, {
      request: (frame) => this.acrossReconnects(() => this.requests.send(frame)),
      join: (frame) => this.acrossReconnects(() => this.session.requestJoin(undefined, undefined, frame)),
      entered: (joined) => this.session.enter(joined),
      roomId: () => this.session.roomId,
      requestNow: (frame) => this.requests.send(frame),
      send: (roomId, text, sendOptions) => this.sendTo(roomId, text, sendOptions),
      change: (roomId, kind, seq, value) => this.changeIn(roomId, kind, seq, value),
      typing: (roomId, typing) => this.typeIn(roomId, typing),
      leaveShown: () => this.leave(),
      error: (error) => this.emit('error', error),
    });
    if (options.autoConnect !== false) this.connect();
  }

  // ---------------------------------------------------------------- state

  get state(): ConnectionState {
    return this.current;
  }

  /** The room this client is in (the lobby until it joins one). */
  get roomId(): string {
    return this.session.roomId;
  }

  /** The invite key of the room this client is in, to share with its code (absent in the lobby). */
  get inviteKey(): string | undefined {
    return this.session.inviteKey;
  }

  /** Highest seq of the current room handed to the app without a gap. */
  get lastSeq(): number | undefined {
    return this.session.lastSeq;
  }

  get members(): readonly string[] {
    return this.session.members;
  }

  /** Messages written but not yet acknowledged. */
  get unsent(): number {
    return this.outbox.size;
  }

  /** True while the socket is open (in every state from `resuming` to `ready`). */
  get connected(): boolean {
    return this.connection.isOpen;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the connection (done by the constructor unless autoConnect is false). */
  connect(): void {
    if (this.current !== 'idle' && this.current !== 'failed') return;
    this.connection.connect();
  }

  /** Reconnects now: after giving up, or to skip the backoff wait. */
  retry(): void {
    if (this.current !== 'closed') this.connection.retry();
  }

  /** Resolves once the connection is open and the room resumed; rejects with TIMEOUT after `requestTimeoutMs`. */
  ready(timeoutMs = this.requestTimeoutMs): Promise<void> {
    if (this.current === 'ready') return Promise.resolve();
    if (this.current === 'closed')
      return Promise.reject(new RoomcastError('CLOSED', 'The client was closed.'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: RoomcastError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(new RoomcastError('TIMEOUT', `Not connected within ${timeoutMs} ms (state ${this.current}).`));
      }, timeoutMs);
      this.readyWaiters.push(waiter);
    });
  }

  /** Closes for good (`code` 1000 or 3000–4999): pending work rejects with CLOSED; then the `close` event. */
  close(code = 1000, reason = 'bye'): void {
    // Checked first (the WebSocket would throw only after the client had let go of its socket).
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RoomcastError('INVALID_ARGUMENT', `A close code is 1000 or 3000-4999, got ${code}.`);
    }
    if (utf8Bytes(reason) > 123) {
      throw new RoomcastError('INVALID_ARGUMENT', 'A close reason is at most 123 bytes (UTF-8).');
    }
    this.shutDown();
    this.connection.close(code, reason);
  }

  /**
   * Closes for good at once, without the closing handshake, as a dropped network would (the server sees 1006).
   * Only a WebSocket class that can (`ws`) does so; the browser's closes normally instead. Also cuts short a
   * `close()` whose handshake is still under way.
   */
  terminate(): void {
    this.shutDown();
    this.connection.terminate();
  }

  /**
   * Sends `text` exactly as it is, bypassing the client: no argument check, no requestId or clientMsgId, no outbox,
   * no retry. Throws DISCONNECTED when not connected. The answer comes as events (`frame`, and `error` for an error
   * frame). For protocol tests and debugging tools: a raw `joinroom` or `leaveroom` moves the connection without the
   * client knowing, so use the methods for those in an app. `maxFrameBytes` sends a longer text as one message in
   * frames of at most that many bytes (API Gateway takes 32 KB a frame, 128 KB a message); only a WebSocket class
   * that can send a message in parts (`ws`) can, others are refused with INVALID_ARGUMENT.
   */
  sendRaw(text: string, options: { maxFrameBytes?: number } = {}): void {
    const max = options.maxFrameBytes;
    if (max === undefined) {
      this.connection.send(text);
      return;
    }
    if (!Number.isInteger(max) || max < 1) {
      throw new RoomcastError('INVALID_ARGUMENT', `maxFrameBytes must be a positive integer, got ${max}.`);
    }
    const bytes = new TextEncoder().encode(text);
    if (bytes.length <= max) {
      this.connection.send(text);
      return;
    }
    if (!this.connection.sendInFrames(bytes, max)) {
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'This WebSocket class cannot send a message in several frames (the `ws` package can).',
      );
    }
  }

  /** Enters `closed` and settles everything that waits with CLOSED. */
  private shutDown(): void {
    if (this.current === 'closed') return;
    this.setState({ state: 'closed', reason: 'closed by the app' });
    const closed = new RoomcastError('CLOSED', 'The client was closed.');
    this.requests.failAll(closed);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(closed);
    this.outbox.rejectAll(closed);
  }

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
    return this.acrossReconnects(() =>
      this.requests.send({ action: 'setroom', ...checked, ...(roomId !== undefined && { roomId }) }),
    );
  }

  /**
   * Signed-in only (else FORBIDDEN): this user's display name, status ('' clears it) and avatar (an image attachment
   * of one of its rooms, from `attach` and the message that carried it; null clears it). Each room it belongs to
   * gets a `profile` event.
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
   * Moves into a room (an 8-character code, or 6 for a room made before codes had 8; lower case accepted; or
   * "lobby"). `inviteKey` is the room's invite key when the link had one: joins by code alone are limited per
   * network (docs/SECURITY.md).
   */
  async join(roomId: string, inviteKey?: string): Promise<JoinedFrame> {
    const target = checkRoomId(roomId);
    const joined = await this.acrossReconnects(() => this.session.requestJoin(target, inviteKey));
    this.session.enter(joined);
    return joined;
  }

  /** Leaves the room for the lobby. */
  async leave(): Promise<LeftFrame> {
    const left = await this.acrossReconnects(() => this.requests.send({ action: 'leaveroom' }));
    await this.session.enterLobby();
    return left;
  }

  /**
   * Sends a message to the current room and resolves with its ack. Idempotent: one clientMsgId per message, reused
   * on every retry, so the room gets it once. While offline the message waits in the outbox. With `replyTo` (the
   * seq of a message in the room) it is a reply; a reply to a message that is gone is refused (MESSAGE_NOT_FOUND,
   * MESSAGE_DELETED). With `threadOf` (the seq of a message of the room, not itself in a thread) it is a reply in that
   * message's thread, shown in the room's flow too with `alsoToRoom`.
   */
  send(text: string, options: SendOptions = {}): Promise<AckFrame> {
    return this.sendTo(this.session.roomId, text, options);
  }

  /** `send` to any followed room (`client.rooms.get(roomId).send`): the frame names its room. */
  private sendTo(roomId: string, text: string, options: SendOptions): Promise<AckFrame> {
    let trimmed: string;
    let replyTo: number | undefined;
    let threadOf: number | undefined;
    const { attachments } = options;
    try {
      // A message with images may have no text (docs/PROTOCOL.md, "Attachments").
      trimmed = attachments?.length && text.trim() === '' ? '' : checkMessageText(text);
      replyTo = checkReplyTo(options.replyTo);
      threadOf = checkThreadOf(options.threadOf, options.alsoToRoom);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.current === 'closed')
      return Promise.reject(new RoomcastError('CLOSED', 'The client was closed.'));
    return this.outbox.add(
      roomId,
      trimmed,
      replyTo,
      attachments?.length ? attachments : undefined,
      threadOf === undefined ? undefined : { threadOf, alsoToRoom: options.alsoToRoom === true },
    );
  }

  /** Edits, deletes and reactions of followed rooms not on screen, one coalescing sender per room. */
  private readonly changesByRoom = new Map<string, MessageChanges>();

  private changeIn(
    roomId: string,
    kind: 'edit' | 'delete' | 'react' | 'unreact',
    seq: number,
    value?: string,
  ): Promise<ChangedFrame> {
    let changes = this.changesByRoom.get(roomId);
    if (!changes) {
      changes = new MessageChanges(
        (frame) => this.acrossReconnects(() => this.requests.send({ ...frame, roomId })),
        (reply) => this.emit('changed', reply),
      );
      this.changesByRoom.set(roomId, changes);
    }
    if (kind === 'edit') return changes.edit(seq, value ?? '');
    if (kind === 'delete') return changes.delete(seq);
    if (kind === 'react') return changes.react(seq, value ?? '');
    return changes.unreact(seq, value ?? '');
  }

  /** When each followed room not on screen last got a typing heartbeat from this client. */
  private readonly typedAt = new Map<string, number>();

  /** Typing in `roomId`: the room on screen through `client.typing`; another at most once per heartbeat. */
  private typeIn(roomId: string, typing: boolean): boolean {
    if (roomId === this.session.roomId) {
      if (!typing) {
        this.typing.stop();
        return true;
      }
      return this.typing.keystroke();
    }
    const last = this.typedAt.get(roomId);
    if (typing && last !== undefined && Date.now() - last < this.typing.heartbeatMs) return false;
    if (!typing && last === undefined) return false;
    try {
      this.connection.send(JSON.stringify({ action: 'typing', roomId, ...(!typing && { typing: false }) }));
    } catch {
      return false;
    }
    if (typing) this.typedAt.set(roomId, Date.now());
    else this.typedAt.delete(roomId);
    return true;
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

  /**
   * Runs an app's request once the connection is ready, and again after a reconnect when the socket closed before
   * the answer (each of these requests may be repeated: a repeated createroom leaves an empty room behind).
   */
  private async acrossReconnects<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.ready();
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof RoomcastError) || error.code !== 'DISCONNECTED' || attempt >= 3) throw error;
      }
    }
  }

  // ---------------------------------------------------------------- connection events

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
    if (change.state === 'ready') for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    if (change.state === 'failed' && change.error !== undefined) {
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(change.error);
    }
  }

  private newId(kind: string): string {
    this.nextId += 1;
    return `${kind}-${this.idPrefix}-${this.nextId.toString(36)}`;
  }

  private async onOpen(socket: SocketLike): Promise<void> {
    if (this.lean) {
      this.setState({ state: 'ready' });
      this.outbox.flush(this.session.roomId);
      return;
    }
    this.setState({ state: 'resuming' });
    try {
      const shown = this.session.roomId;
      await this.session.resume();
      // A room the rejoin found gone (closed, key rotated) is not followed any more.
      if (this.session.roomId !== shown) this.rooms.forget(shown);
      await this.rooms.resubscribe();
    } catch (error) {
      // The resume could not finish on this socket (it closed, or the server did not answer): start over.
      this.connection.drop(socket, 4000, 'resume failed');
      if (error instanceof RoomcastError && error.code !== 'DISCONNECTED') this.emit('error', error);
      return;
    }
    if (this.current !== 'resuming' || !this.connection.isCurrent(socket)) return;
    this.connection.settled();
    this.setState({ state: 'ready' });
    this.outbox.flush(this.session.roomId, (roomId) => this.rooms.followed.includes(roomId));
  }

  private onClosed(code: number, reason: string, error: RoomcastError): void {
    this.emit('close', { code, reason });
    this.requests.failAll(error);
    this.outbox.disconnected();
    if (this.lean) this.outbox.rejectAll(error);
  }

  // ---------------------------------------------------------------- frames in

  private onText(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.emit('frame', { raw: text });
      this.emit('unknown', { raw: text });
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.emit('frame', { raw: text });
      this.emit('unknown', { raw: text, frame });
      return;
    }
    const f = frame as Record<string, unknown>;
    this.emit('frame', { raw: text, frame: f });
    const type = f.type;
    if (typeof type !== 'string' || !FRAME_TYPES.has(type)) {
      if (type === undefined && typeof f.message === 'string' && typeof f.connectionId === 'string') {
        // API Gateway's own answer when a route's function failed; it names no request of ours.
        this.emit('error', new RoomcastError('GATEWAY_ERROR', f.message));
        return;
      }
      this.emit('unknown', { raw: text, frame });
      return;
    }
    this.route(type, f, text);
  }

  /** Hands a frame to the part it concerns: the session, the outbox, a waiting request, or the app's events. */
  private route(type: string, f: Record<string, unknown>, raw: string): void {
    if (ROOM_FRAMES.has(type)) {
      if (!this.session.onRoomFrame(f)) this.emit('unknown', { raw, frame: f });
      return;
    }
    switch (type) {
      case 'presence':
        this.session.onPresence(f as unknown as RoomcastEvents['presence']);
        return;
      case 'memberschanged': // a fan-out cycle's joins and leaves in one frame: each is a presence change, in order
        for (const presence of presencesOf(f)) this.session.onPresence(presence);
        return;
      case 'broadcast':
        this.emit('broadcast', f as unknown as BroadcastFrame);
        return;
      case 'mention':
        this.emit('mention', f as unknown as MentionFrame);
        return;
      case 'roomchanged': // pushed to every member; the owner's own reply carries its requestId
        if (f.requestId === undefined) {
          this.emit('roomchanged', f as unknown as RoomChangedFrame);
          return;
        }
        break;
      case 'profile':
        if (f.requestId === undefined) {
          this.emit('profile', f as unknown as ProfileFrame);
          return;
        }
        break;
      case 'typing': // client/typing.ts takes it from the `frame` event
        return;
      case 'pong':
        this.connection.pong();
        return;
      case 'ack':
        if (this.outbox.ack(f as unknown as AckFrame)) return;
        break;
      case 'error':
        this.onError(f as unknown as ErrorFrame);
        return;
    }
    if (this.requests.answer(f) || this.session.onOwnerFrame(f)) return;
    // A report of a room this user owns or moderates, pushed to its connections (the reporter's own reply was answered
    // above), and a report closed by another of the room's staff.
    if (type === 'reported') {
      this.emit('reported', f as unknown as ReportedFrame);
      return;
    }
    if (type === 'reportresolved') {
      this.emit('reportresolved', f as unknown as ReportResolvedFrame);
      return;
    }
    if (MODERATION_NOTICES.has(type)) {
      this.emit('moderation', f as unknown as ModerationNotice);
      return;
    }
    if (type === 'members') {
      const m = f as unknown as MembersFrame;
      this.session.setMembers(m.roomId, m.members, m.memberCount);
      return;
    }
    if (!LATE_REPLIES.has(type)) this.emit('unknown', { raw, frame: f });
  }

  /** An error frame answers the message or request it names; one that names none goes to the `error` event. */
  private onError(frame: ErrorFrame): void {
    const code = SERVER_CODES.has(frame.code) ? frame.code : 'INTERNAL';
    const error = new RoomcastError(code, frame.message, {
      action: frame.action,
      requestId: frame.requestId,
      clientMsgId: frame.clientMsgId,
      ...(typeof frame.until === 'string' && { until: frame.until }),
      ...(typeof frame.retryAfterSeconds === 'number' && { retryAfterSeconds: frame.retryAfterSeconds }),
    });
    if (this.outbox.refused(frame.clientMsgId, error)) return;
    if (this.requests.reject(frame.requestId, error)) return;
    this.emit('error', error);
  }
}

/** Opens a roomcast connection; see RoomcastClient and docs/CLIENT.md. */
export function createRoomcastClient(options: RoomcastClientOptions): RoomcastClient {
  return new RoomcastClient(options);
}

/** A room's name, topic and visibility as the server would store them; INVALID_ARGUMENT for what it would refuse. */
function checkRoomInfo(info: RoomInfo): RoomInfo {
  const out: RoomInfo = {};
  if (info.name !== undefined) {
    const name = normalizeTitle(info.name, DIRECTORY_LIMITS.roomNameMaxChars);
    if (name === undefined)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A room's name is 1–${DIRECTORY_LIMITS.roomNameMaxChars} characters.`,
      );
    out.name = name;
  }
  if (info.topic !== undefined) {
    const topic = normalizeText(info.topic, DIRECTORY_LIMITS.topicMaxChars);
    if (topic === undefined)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A topic is at most ${DIRECTORY_LIMITS.topicMaxChars} characters.`,
      );
    out.topic = topic;
  }
  if (info.public !== undefined) out.public = info.public === true;
  if (info.membersPin !== undefined) out.membersPin = info.membersPin === true;
  return out;
}
