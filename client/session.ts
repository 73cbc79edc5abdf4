import type {
  AnsweredBy,
  AskOf,
  BannedFrame,
  BanRequest,
  CloseRoomRequest,
  HistoryFrame,
  JoinedFrame,
  KeyRotatedFrame,
  MemberRemovedFrame,
  PresenceFrame,
  RemovedFrame,
  RemoveMemberRequest,
  ResyncFrame,
  RoomClosedFrame,
  RoomEventFrame,
  RotateKeyRequest,
} from '../protocol';
import { CHANGE_FRAME_TYPES, LIMITS, LOBBY } from '../protocol';
import { type BackoffPolicy, retrying } from './backoff';
import { RoomcastError } from './errors';
import { CHANGE_RETRY, RETRY_CODES } from './messages';
import type { Requester } from './requests';
import { roomEvent } from './roomEvent';

/** The requests answered by `joined`, which move the session into a room (protocol/index.ts AnsweredBy). */
export type JoinAction = AnsweredBy<'joined'>;

import { marked, Sequencer } from './sequencer';
import type { SessionEvents } from './types';
import { batchMessages, gapsOf, isResyncFrame, isRoomEvent, withoutGaps } from './validate';

const CHANGES: ReadonlySet<string> = new Set(CHANGE_FRAME_TYPES);

/**
 * What the session is doing besides taking messages, as one value:
 * - `steady`: in its room, handing messages over in seq order;
 * - `joining`: a join or create waits for its `joined` reply; messages of other rooms that arrive meanwhile are
 *   kept (the room being created has no known code yet) and delivered if the reply names their room;
 * - `filling`: fetching history to fill a gap in the seqs.
 */
export type SessionActivity =
  | { kind: 'steady' }
  | { kind: 'joining'; roomId: string | undefined; early: RoomEventFrame[] }
  | { kind: 'filling' };

export interface SessionHooks {
  /** Sends a request and resolves with its answer (client/requests.ts). */
  request: Requester;
  emit<K extends keyof SessionEvents>(event: K, value: SessionEvents[K]): void;
}

export interface SessionConfig {
  /** Messages fetched when entering a room with no history yet (the lobby on connect). */
  initialHistory: number;
  /** Every message handed over as it arrives, no order, no member list (client option `lean`). */
  lean: boolean;
}

/**
 * How long a hole that history does not fill is waited for before the messages above it are delivered: a seq is taken
 * before its message is stored, and may be stored a moment after a later one (docs/PROTOCOL.md, "Ordering, gaps and
 * retries").
 */
export const HOLE_WAIT_MS = 2_000;

/**
 * How long a new subscription may take to show in the room index the fan-out reads (`RoomSubscribers`, a GSI, so
 * eventually consistent): a message fanned out in that window is not posted to the member who just joined. In a
 * room that goes on talking the next message reveals the hole; a quiet room has no next, so a room that brought
 * nothing since the join is asked once, this long after it, for what came after (docs/CLIENT.md, "Guarantees").
 */
export const INDEX_LAG_MS = 2_000;

/**
 * How a join answered BUSY or INTERNAL (RETRY_CODES) is asked again, as changes are (CHANGE_RETRY): every join of a
 * room holds the room's item in its transaction and DynamoDB cancels one of two that meet, so a room many people
 * enter at once (a class starting, everyone back after a reconnect) may answer some of them BUSY after the server's
 * own tries. A join is safe to repeat (joining the room the connection is in answers `joined` again). A create is
 * not asked again: its retry would leave a second room.
 */
export const JOIN_RETRY: BackoffPolicy = CHANGE_RETRY;

/**
 * The room the client is in and what it has delivered of it: join (with the room's invite key) and create, the
 * resume after a reconnect (back into the room, then everything after the last seq), gap filling through `history`,
 * the sequencer that hands each seq over once and in order, and the member list.
 */
export class RoomSession {
  private room = LOBBY;
  /** The room's invite key from its last `joined` reply: a rejoin with it takes none of the network's guesses. */
  private key: string | undefined;
  private memberList: string[] = [];
  /** The room's count as the server last gave it, moved by counted joins and leaves since (onMembersCounted). */
  private memberCount: number | undefined;
  private activity: SessionActivity = { kind: 'steady' };
  /** A fill was asked for while one ran (a new gap, a resync): the running fill goes round once more. */
  private refill = false;
  /**
   * The lowest `afterSeq` of the resyncs since the last fill: a message stored after its hole was skipped sits below
   * the last seq delivered, so the next fill reads from there when a skipped seq lies above it.
   */
  private resyncFrom: number | undefined;
  /** A fill set to run once a hole history did not have has waited HOLE_WAIT_MS. */
  private holeTimer: ReturnType<typeof setTimeout> | undefined;
  private lagTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sequencer: Sequencer;

  constructor(
    private readonly hooks: SessionHooks,
    private readonly config: SessionConfig,
  ) {
    this.sequencer = new Sequencer((e, late) => {
      // A seq of a hole skipped before: handed over now, marked, for the app to put in its place by seq.
      const event = marked(e, late);
      if (event.type === 'message') hooks.emit('message', event);
      else hooks.emit('change', event);
    });
  }

  get roomId(): string {
    return this.room;
  }

  get inviteKey(): string | undefined {
    return this.key;
  }

  get lastSeq(): number | undefined {
    return this.sequencer.lastSeq;
  }

  get members(): readonly string[] {
    return this.memberList;
  }

  get state(): SessionActivity['kind'] {
    return this.activity.kind;
  }

  /**
   * Sends a join (`roomId` with `key`) or, without a room id, a create, or `request` (another request answered by
   * `joined`: `opendm`); resolves with the `joined` reply.
   */
  async requestJoin(
    roomId: string | undefined,
    key?: string,
    request?: AskOf<JoinAction>,
  ): Promise<JoinedFrame> {
    const frame: AskOf<JoinAction> =
      request ??
      (roomId === undefined
        ? { action: 'createroom' }
        : { action: 'joinroom', roomId, ...(key !== undefined && { key }) });
    const joining: SessionActivity = { kind: 'joining', roomId, early: [] };
    this.activity = joining;
    try {
      const ask = () => this.hooks.request(frame);
      const joined = frame.action === 'joinroom' ? retrying(ask, JOIN_RETRY, RETRY_CODES) : ask();
      return await joined;
    } catch (error) {
      if (this.activity === joining) this.activity = { kind: 'steady' };
      throw error;
    }
  }

  /** Moves into the room a `joined` reply names and fills what is missing in the background. */
  enter(joined: JoinedFrame): void {
    if (this.enterRoom(joined)) void this.fillGap();
    this.checkAfterLag();
  }

  /** INDEX_LAG_MS after entering a room: if nothing came since, one `history` after the last seq (a quiet room). */
  private checkAfterLag(): void {
    if (this.config.lean || this.room === LOBBY) return;
    clearTimeout(this.lagTimer);
    const room = this.room;
    const seq = this.sequencer.lastSeq;
    this.lagTimer = setTimeout(() => {
      this.lagTimer = undefined;
      if (room === this.room && this.sequencer.lastSeq === seq) void this.fillGap();
    }, INDEX_LAG_MS);
  }

  /** Every connection starts in the lobby: go back to the room, then fetch everything after the last seq. */
  async resume(): Promise<void> {
    const wanted = this.room;
    if (wanted === LOBBY) {
      await this.enterLobby();
      return;
    }
    try {
      const joined = await this.requestJoin(wanted, this.key);
      if (this.enterRoom(joined)) await this.catchUp();
      this.checkAfterLag();
    } catch (error) {
      if (
        !(error instanceof RoomcastError) ||
        (error.code !== 'ROOM_NOT_FOUND' && error.code !== 'ROOM_CLOSED')
      )
        throw error;
      // The room is gone (it ended, was closed, or its key was rotated): the connection is in the lobby, and so is
      // the app from now on.
      this.hooks.emit('error', error);
      await this.enterLobby();
    }
  }

  /**
   * An owner action (`rotatekey`, `removemember`, `closeroom`) on the current room: a new key in the reply is kept
   * for the next rejoin, and after `closeroom` the client is in the lobby. Not repeated across a reconnect.
   */
  asOwner(frame: RotateKeyRequest): Promise<KeyRotatedFrame>;
  asOwner(frame: RemoveMemberRequest): Promise<MemberRemovedFrame>;
  asOwner(frame: CloseRoomRequest): Promise<RoomClosedFrame>;
  asOwner(frame: BanRequest): Promise<BannedFrame>;
  async asOwner(
    frame: RotateKeyRequest | RemoveMemberRequest | CloseRoomRequest | BanRequest,
  ): Promise<unknown> {
    if (
      (frame.action === 'removemember' || frame.action === 'ban') &&
      (typeof frame.username !== 'string' || frame.username === '')
    ) {
      throw new RoomcastError('INVALID_ARGUMENT', 'username must be the name of a member of the room.');
    }
    const reply = await this.hooks.request({ ...frame });
    if (reply.roomId === this.room && 'inviteKey' in reply && typeof reply.inviteKey === 'string')
      this.key = reply.inviteKey;
    if (reply.type === 'roomclosed' && reply.roomId === this.room) await this.enterLobby();
    return reply;
  }

  /**
   * A frame an owner's action pushed to this client: `keyrotated` (kept for the next rejoin), or `removed` /
   * `roomclosed` (the server moved the connection to the lobby; the app hears why, then the `room` event). Frames
   * of a room the client is not in are dropped. False for any other frame.
   */
  onOwnerFrame(f: Record<string, unknown>): boolean {
    const { type, roomId } = f;
    if (type !== 'keyrotated' && type !== 'removed' && type !== 'roomclosed') return false;
    if (roomId !== this.room) return true;
    if (type === 'keyrotated') {
      this.key = String(f.inviteKey);
      this.hooks.emit('keyrotated', f as unknown as KeyRotatedFrame);
      return true;
    }
    if (type === 'removed') this.hooks.emit('removed', f as unknown as RemovedFrame);
    else this.hooks.emit('roomclosed', f as unknown as RoomClosedFrame);
    this.enterLobby().catch((error: unknown) => {
      if (error instanceof RoomcastError && error.code !== 'DISCONNECTED') this.hooks.emit('error', error);
    });
    return true;
  }

  /** After `leaveroom`: the lobby, with its recent history. */
  async enterLobby(): Promise<void> {
    if (this.config.lean) {
      this.room = LOBBY;
      this.key = undefined;
      this.memberList = [];
      this.memberCount = undefined;
      this.hooks.emit('room', { roomId: LOBBY, lastSeq: 0 });
      return;
    }
    const fresh = this.room !== LOBBY || this.sequencer.lastSeq === undefined;
    if (!fresh) {
      await this.catchUp();
      return;
    }
    this.room = LOBBY;
    this.key = undefined;
    this.sequencer.reset();
    this.resyncFrom = undefined;
    this.memberList = [];
    this.memberCount = undefined;
    const latest = await this.history({ limit: this.config.initialHistory });
    const first = latest.messages[0]?.seq;
    const last = latest.messages.at(-1)?.seq ?? 0;
    this.sequencer.setBaseline(first === undefined ? last : first - 1);
    // The room first, then its messages (as for a joined room): an app shows a room's messages once it knows it.
    this.hooks.emit('room', { roomId: LOBBY, lastSeq: last });
    this.sequencer.pass(gapsOf(latest));
    for (const message of latest.messages) this.sequencer.accept(message);
    if (this.sequencer.hasGap || latest.hasMore === true) await this.catchUp();
  }

  /** A page of the current room's history. */
  history(query: { afterSeq?: number; beforeSeq?: number; limit?: number }): Promise<HistoryFrame> {
    return this.hooks.request({ action: 'history', ...query });
  }

  /**
   * A `message`, `batch` or `resync` frame as received; false when it breaks the protocol. Nothing such a frame
   * carried is handed over, and when it names this room the client reads what it may have held from history.
   */
  onRoomFrame(frame: Record<string, unknown>): boolean {
    let messages: RoomEventFrame[] | undefined;
    if (frame.type === 'message' || CHANGES.has(String(frame.type)))
      messages = isRoomEvent(frame) ? [withoutGaps(frame)] : undefined;
    else if (frame.type === 'batch') messages = batchMessages(frame);
    if (messages !== undefined) {
      this.onMessages(messages, gapsOf(frame));
      return true;
    }
    if (isResyncFrame(frame)) {
      this.onResync(frame);
      return true;
    }
    if (typeof frame.roomId === 'string') this.fetchMissing(frame.roomId);
    return false;
  }

  /**
   * The messages of a `message` frame (one) or a `batch` frame (several of one room), as they came. Frames may
   * overlap and arrive in any order (a retried post can land after a later batch): the sequencer hands each seq
   * over once, in order, and a gap is filled from history.
   */
  onMessages(messages: readonly RoomEventFrame[], gaps: readonly number[] = []): void {
    if (this.config.lean) {
      for (const event of messages)
        if (event.type === 'message') this.hooks.emit('message', event);
        else this.hooks.emit('change', event);
      return;
    }
    const activity = this.activity;
    // The seqs the frame's room gave up (`gaps`): delivered, never waited for nor read from history.
    if (messages[0]?.roomId === this.room) this.sequencer.pass(gaps);
    const elsewhere: RoomEventFrame[] = [];
    for (const message of messages) {
      if (
        activity.kind === 'joining' &&
        message.roomId !== this.room &&
        (activity.roomId === undefined || activity.roomId === message.roomId)
      ) {
        // Possibly the room being joined (a created room's code is not known before the reply).
        if (activity.early.length < LIMITS.historyMax) activity.early.push(message);
      } else if (message.roomId === this.room) {
        this.sequencer.accept(message);
      } else elsewhere.push(message); // a room the connection follows but does not show: never a `message` event
    }
    // A frame is of one room (a message, or a batch of one room's).
    const [first] = elsewhere;
    if (first) this.hooks.emit('otherroom', { roomId: first.roomId, events: elsewhere });
    if (this.sequencer.hasGap) void this.fillGap();
  }

  /**
   * The server could not deliver this room's messages after `afterSeq` (a `resync` frame): fetch everything after
   * the last seq delivered, which is at or below `afterSeq` when anything is missing (lean: handed over only).
   */
  onResync(resync: ResyncFrame): void {
    if (resync.roomId !== this.room) return;
    this.hooks.emit('resync', resync);
    if (!this.config.lean && Number.isSafeInteger(resync.afterSeq))
      this.resyncFrom = Math.min(this.resyncFrom ?? resync.afterSeq, resync.afterSeq);
    this.fetchMissing(resync.roomId);
  }

  /** Fetches everything of `roomId` after the last seq delivered, if it is this session's room (not in lean mode). */
  fetchMissing(roomId: string): void {
    if (roomId === this.room && !this.config.lean) void this.fillGap();
  }

  /** A `presence` frame: the member list follows it (lean: handed over only). */
  onPresence(presence: PresenceFrame): void {
    if (presence.roomId !== this.room) return;
    if (this.config.lean) {
      this.hooks.emit('presence', presence); // no member list: a presence frame to each of N members costs O(N)
      return;
    }
    const others = this.memberList.filter((name) => name !== presence.username);
    this.hooks.emit('presence', presence);
    // A name may stay connected from another tab after one leaves; `who()` tells for sure.
    this.setMembers(this.room, presence.event === 'join' ? [...others, presence.username] : others);
  }

  setMembers(roomId: string, members: string[], memberCount?: number): void {
    if (roomId !== this.room) return;
    this.memberList = [...new Set(members)];
    this.memberCount = memberCount;
    this.hooks.emit('members', { roomId, members: this.memberList, memberCount });
  }

  /**
   * A `memberschanged` frame's joins and leaves counted, not named (a room that has held more than 100 members names
   * none): the room's count moves by them, the list of names stays as the last `who` or `joined` gave it.
   */
  onMembersCounted(roomId: string, joined: number, left: number): void {
    if (roomId !== this.room || joined + left === 0) return;
    const count = Math.max(0, (this.memberCount ?? this.memberList.length) + joined - left);
    this.memberCount = count;
    this.hooks.emit('members', { roomId, members: this.memberList, memberCount: count, counted: true });
  }

  /**
   * A `joined` reply: deliver what the app has not seen yet; true when a gap up to the room's last seq remains to
   * be filled through history.
   */
  private enterRoom(joined: JoinedFrame): boolean {
    const early = this.activity.kind === 'joining' ? this.activity.early : [];
    this.activity = { kind: 'steady' };
    this.key = joined.inviteKey;
    if (this.config.lean) {
      this.room = joined.roomId;
      this.hooks.emit('room', roomEvent(joined));
      this.setMembers(joined.roomId, joined.members ?? [], joined.memberCount);
      return false;
    }
    const same = joined.roomId === this.room && this.sequencer.lastSeq !== undefined;
    if (!same) {
      this.room = joined.roomId;
      this.sequencer.reset();
      this.resyncFrom = undefined;
      // A fresh room: the app gets its recent history (`joined.history`) and everything after.
      const first = joined.history?.[0]?.seq;
      this.sequencer.setBaseline(first === undefined ? joined.lastSeq : first - 1);
      this.hooks.emit('room', roomEvent(joined));
    }
    this.sequencer.pass(gapsOf(joined));
    for (const message of joined.history ?? []) this.sequencer.accept(message);
    for (const message of early) if (message.roomId === joined.roomId) this.sequencer.accept(message);
    // Held during the join, of other followed rooms: theirs, as they came.
    const elsewhere = new Map<string, RoomEventFrame[]>();
    for (const message of early)
      if (message.roomId !== joined.roomId)
        elsewhere.set(message.roomId, [...(elsewhere.get(message.roomId) ?? []), message]);
    for (const [roomId, events] of elsewhere) this.hooks.emit('otherroom', { roomId, events });
    this.setMembers(joined.roomId, joined.members ?? [], joined.memberCount);
    return (this.sequencer.lastSeq ?? 0) < joined.lastSeq || this.sequencer.hasGap || joined.hasMore === true;
  }

  /**
   * Pages through `history` after the last seq until the server says no more follow (`hasMore`; a reply holds only
   * what fits 128 KB, so a short page alone does not mean caught up). A server without `hasMore`: a short page.
   */
  private async catchUp(): Promise<void> {
    const room = this.room;
    let afterSeq = this.sequencer.lastSeq ?? 0;
    // A resync may name seqs below the last delivered: a skipped one among them may be stored by now (late).
    const late = this.resyncFrom === undefined ? undefined : this.sequencer.skippedAfter(this.resyncFrom);
    this.resyncFrom = undefined;
    if (late !== undefined) afterSeq = Math.min(afterSeq, late - 1);
    for (;;) {
      const page = await this.history({ afterSeq, limit: LIMITS.historyMax });
      if (room !== this.room) return;
      this.sequencer.pass(gapsOf(page));
      for (const message of page.messages) this.sequencer.accept(message);
      const more = page.hasMore ?? page.messages.length >= LIMITS.historyMax;
      // The next page starts after this one's last seq (which moves on even past a hole: expired messages), or
      // after the last seq delivered when messages held above it already reach further, unless a skipped seq
      // below that is still to be read.
      const last = page.messages.at(-1)?.seq;
      if (!more || last === undefined || last <= afterSeq) break;
      const delivered = this.sequencer.lastSeq ?? 0;
      const skipped = late === undefined ? undefined : this.sequencer.skippedAfter(last);
      afterSeq = skipped !== undefined && skipped < delivered ? last : Math.max(last, delivered);
    }
    // What is still held above a hole that history does not have: a seq taken and never stored (a gap), expired,
    // or still being stored (a seq is taken before its message is put). It waits HOLE_WAIT_MS from when it was first
    // seen, history is read once more, then the hole is skipped: a gap is passed, never asked for without end.
    // Unless a new gap or a resync came while the last page was on its way: then the fill goes round again first.
    if (!this.sequencer.hasGap || this.refill) return;
    const waited = this.sequencer.holeAgeMs;
    if (waited >= HOLE_WAIT_MS) this.sequencer.skipHole();
    else
      this.holeTimer ??= setTimeout(() => {
        this.holeTimer = undefined;
        if (room === this.room) this.fetchMissing(room);
      }, HOLE_WAIT_MS - waited);
  }

  /**
   * Fills a gap in the background, one fill at a time (a fill asked for meanwhile makes it go round once more), and
   * none while a join will bring the room's state anyway.
   */
  private async fillGap(): Promise<void> {
    if (this.activity.kind === 'filling') {
      this.refill = true;
      return;
    }
    if (this.activity.kind !== 'steady') return;
    const filling: SessionActivity = { kind: 'filling' };
    this.activity = filling;
    try {
      do {
        this.refill = false;
        await this.catchUp();
      } while (this.refill && this.activity === filling);
    } catch {
      // The socket closed or the server did not answer: the resume after the reconnect fills the gap.
    } finally {
      if (this.activity === filling) {
        this.activity = { kind: 'steady' };
        this.refill = false;
      }
    }
  }
}
