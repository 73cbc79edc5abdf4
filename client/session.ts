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
  RemoveMemberRequest,
  ResyncFrame,
  RoomClosedFrame,
  RoomEventFrame,
  RotateKeyRequest,
} from '../protocol';
import { CHANGE_FRAME_TYPES, LIMITS, LOBBY } from '../protocol';
import { type BackoffPolicy, retrying } from './backoff';
import { RoomcastError } from './errors';
import { GapFill } from './gapFill';
import { MemberList } from './memberList';
import { CHANGE_RETRY, RETRY_CODES } from './messages';
import { roomEvent } from './roomEvent';
import { askAsOwner, type OwnedRoom, type OwnerRequest, onOwnerFrame } from './roomOwner';

/** The requests answered by `joined`, which move the session into a room (protocol/index.ts AnsweredBy). */
export type JoinAction = AnsweredBy<'joined'>;

import { marked, Sequencer } from './sequencer';
import type { SessionActivity, SessionConfig, SessionHooks } from './sessionTypes';
import { batchMessages, gapsOf, isResyncFrame, isRoomEvent, withoutGaps } from './validate';

const CHANGES: ReadonlySet<string> = new Set(CHANGE_FRAME_TYPES);

export { HOLE_WAIT_MS, INDEX_LAG_MS } from './gapFill';

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
 * resume after a reconnect (back into the room, then everything after the last seq), and the sequencer that hands
 * each seq over once and in order. Its parts: the gaps filled through `history` (client/gapFill.ts), the member list
 * (client/memberList.ts) and the owner's actions (client/roomOwner.ts).
 */
export class RoomSession {
  private room = LOBBY;
  /** The room's invite key from its last `joined` reply: a rejoin with it takes none of the network's guesses. */
  private key: string | undefined;
  private readonly memberList: MemberList;
  /** The room on screen as the owner's actions see it (client/roomOwner.ts). */
  private readonly owned: OwnedRoom;
  private activity: SessionActivity = { kind: 'steady' };
  private readonly sequencer: Sequencer;
  /** Gaps filled from history, holes waited for and skipped (client/gapFill.ts). */
  private readonly gaps: GapFill;

  constructor(
    private readonly hooks: SessionHooks,
    private readonly config: SessionConfig,
  ) {
    this.memberList = new MemberList(hooks);
    this.owned = {
      hooks,
      roomId: () => this.room,
      keep: (key) => {
        this.key = key;
      },
      enterLobby: () => this.enterLobby(),
    };
    this.sequencer = new Sequencer((e, late) => {
      // A seq of a hole skipped before: handed over now, marked, for the app to put in its place by seq.
      const event = marked(e, late);
      if (event.type === 'message') hooks.emit('message', event);
      else hooks.emit('change', event);
    });
    this.gaps = new GapFill(
      this.sequencer,
      {
        room: () => this.room,
        history: (query) => this.history(query),
        activity: () => this.activity,
        setActivity: (activity) => {
          this.activity = activity;
        },
      },
      config.lean,
    );
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
    return this.memberList.members;
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
    if (this.enterRoom(joined)) void this.gaps.fill();
    this.gaps.afterLag();
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
      if (this.enterRoom(joined)) await this.gaps.catchUp();
      this.gaps.afterLag();
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
  asOwner(frame: OwnerRequest): Promise<unknown> {
    return askAsOwner(this.owned, frame);
  }

  /** A frame an owner's action pushed to this client (client/roomOwner.ts); false for any other frame. */
  onOwnerFrame(f: Record<string, unknown>): boolean {
    return onOwnerFrame(this.owned, f);
  }

  /** After `leaveroom`: the lobby, with its recent history. */
  async enterLobby(): Promise<void> {
    if (this.config.lean) {
      this.room = LOBBY;
      this.key = undefined;
      this.memberList.clear();
      this.hooks.emit('room', { roomId: LOBBY, lastSeq: 0 });
      return;
    }
    const fresh = this.room !== LOBBY || this.sequencer.lastSeq === undefined;
    if (!fresh) {
      await this.gaps.catchUp();
      return;
    }
    this.room = LOBBY;
    this.key = undefined;
    this.sequencer.reset();
    this.gaps.reset();
    this.memberList.clear();
    const latest = await this.history({ limit: this.config.initialHistory });
    const first = latest.messages[0]?.seq;
    const last = latest.messages.at(-1)?.seq ?? 0;
    this.sequencer.setBaseline(first === undefined ? last : first - 1);
    // The room first, then its messages (as for a joined room): an app shows a room's messages once it knows it.
    this.hooks.emit('room', { roomId: LOBBY, lastSeq: last });
    this.sequencer.pass(gapsOf(latest));
    for (const message of latest.messages) this.sequencer.accept(message);
    if (this.sequencer.hasGap || latest.hasMore === true) await this.gaps.catchUp();
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
    if (this.sequencer.hasGap) void this.gaps.fill();
  }

  /**
   * The server could not deliver this room's messages after `afterSeq` (a `resync` frame): fetch everything after
   * the last seq delivered, which is at or below `afterSeq` when anything is missing (lean: handed over only).
   */
  onResync(resync: ResyncFrame): void {
    if (resync.roomId !== this.room) return;
    this.hooks.emit('resync', resync);
    this.gaps.resynced(resync.afterSeq);
    this.fetchMissing(resync.roomId);
  }

  /** Fetches everything of `roomId` after the last seq delivered, if it is this session's room (not in lean mode). */
  fetchMissing(roomId: string): void {
    this.gaps.missing(roomId);
  }

  /** A `presence` frame: the member list follows it (lean: handed over only). */
  onPresence(presence: PresenceFrame): void {
    if (presence.roomId === this.room) this.memberList.presence(presence, this.config.lean);
  }

  setMembers(roomId: string, members: string[], memberCount?: number): void {
    if (roomId === this.room) this.memberList.set(roomId, members, memberCount);
  }

  /** A `memberschanged` frame's joins and leaves counted, not named (client/memberList.ts `counted`). */
  onMembersCounted(roomId: string, joined: number, left: number): void {
    if (roomId === this.room) this.memberList.counted(roomId, joined, left);
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
      this.gaps.reset();
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
}
