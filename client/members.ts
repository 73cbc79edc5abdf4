import type {
  ChangedFrame,
  DmOpenedFrame,
  JoinedFrame,
  LeftFrame,
  MyRoom,
  NoticeChoice,
  NoticesFrame,
  PresenceFrame,
  ReadFrame,
  ResyncFrame,
  RoomEventFrame,
  SubscribedFrame,
  SubscribedRoom,
  TypingFrame,
} from '../protocol';
import { isNoticeChoice, LIMITS, LOBBY } from '../protocol';
import { RoomcastError } from './errors';
import type { MemberHooks } from './memberHooks';
import { MyRooms } from './myRooms';
import { PeopleAsks } from './peopleAsks';
import { ReadPositions } from './readPositions';
import type { RoomUnread, SeenFrame } from './room';
import { Room } from './room';
import { type ElsewhereHost, roomElsewhere } from './roomsElsewhere';
import { type RoomToFollow, Subscriptions } from './subscriptions';
import type { RoomcastClientOptions, StateChange } from './types';
import { UnreadCounts } from './unreadCounts';
import { checkRoomId, isRoomEvent, presencesOf } from './validate';

/**
 * The rooms this connection follows, read positions, "my rooms" and direct messages (docs/CLIENT.md, "Many rooms"
 * and "Unread counts, direct messages, edits"). Its hooks and events are client/memberHooks.ts's; finding people,
 * search and direct messages client/peopleAsks.ts's, which it extends.
 *
 * ```ts
 * const client = createRoomcastClient({ url, getToken, trackRooms: true });
 * client.rooms.on('rooms', (rooms) => render(rooms.map((r) => `${r.roomId}: ${r.unread}`)));
 * client.rooms.get('K7M2QDHT').on('unread', ({ unread }) => badge(unread)); // one room, live
 * client.on('message', (m) => client.rooms.markRead(m.seq)); // coalesced: one markread per room per interval
 * const dm = await client.rooms.openDirect({ userId });       // the pair's one room; the client is in it now
 * ```
 *
 * `markRead` sends at most one `markread` per room per `readIntervalMs` (default 5 s; longer in a room of over 250
 * members, protocol readIntervalFor), each only a position higher than the last one sent for its room, so reading a
 * busy room costs a handful of requests, not one per message. After every connect a client made with `trackRooms` asks `myrooms` once and emits `rooms` (the unread
 * count of each of its rooms, including direct messages opened by someone else while it was away), then follows the
 * rooms not followed yet in one `subscribe`. A reconnect resubscribes every room followed before in one `subscribe`
 * (`resubscribe`, before the client is ready), each after its last seq. A `subscribe` the server was busy with is
 * asked again a few times (SUBSCRIBE_RETRY), so the rooms end up followed rather than silent until the next reconnect.
 *
 * Between two `myrooms` answers each followed room's count follows the frames the connection gets, counted as the
 * server counts: a message after the read position raises it by one, unless this member sent it (its `authorKey` is
 * the member's key in the room, or its ack names the seq: a message is recognised by identity, never by display
 * name); edits, deletes and reactions do not, and a message deleted before it was read no longer counts.
 */

export type { DirectTarget, MemberEvents, MemberHooks } from './memberHooks';
export type { RoomToFollow } from './subscriptions';
export { HISTORY_PACE_MS, SUBSCRIBE_RETRY } from './subscriptions';

export class MemberRooms extends PeopleAsks {
  /** "My rooms" and their unread counts (myRooms.ts). */
  private readonly mine: MyRooms;
  /** Read positions sent and waiting (readPositions.ts). */
  private readonly reads: ReadPositions;
  /** Per room: what the frames since the last `myrooms` answer add to its count (unreadCounts.ts). */
  private readonly counts = new UnreadCounts();
  private readonly handles = new Map<string, Room>();
  /** The rooms this connection follows, `subscribe` and the paced history fetch (subscriptions.ts). */
  private readonly subs: Subscriptions;
  /** This member's key in each room (`joined`, `subscribed`): a message with it as `authorKey` is its own. */
  private readonly memberKeys = new Map<string, string>();
  private readonly ownKey = (roomId: string) => this.memberKeys.get(roomId);

  constructor(
    client: {
      on(event: 'state', listener: (change: StateChange) => void): unknown;
      on(event: 'frame', listener: (frame: { frame?: Record<string, unknown> }) => void): unknown;
    },
    private readonly options: Pick<RoomcastClientOptions, 'trackRooms' | 'readIntervalMs' | 'random'>,
    hooks: MemberHooks,
    now: () => number = Date.now,
  ) {
    super(hooks);
    this.reads = new ReadPositions(
      {
        request: (frame) => this.hooks.request(frame),
        shown: () => this.hooks.roomId(),
        follows: (roomId) => this.subs.following.has(roomId),
        read: (roomId) => this.recount(roomId),
      },
      // 12 a minute at most: well within FrameRateLimit's room beside the sends SendRateLimit allows.
      options.readIntervalMs ?? 5000,
      now,
    );
    this.subs = this.subscriptionsOf();
    this.mine = new MyRooms({
      counts: this.counts,
      readSent: (roomId) => this.reads.sentFor(roomId),
      changed: (rooms) => this.emit('rooms', rooms),
      handle: (roomId) => this.handles.get(roomId),
    });
    client.on('frame', ({ frame }) => {
      if (!frame) return;
      this.follows(frame);
      this.reads.heard(frame);
      if (roomElsewhere(this.elsewhereHost, frame)) return;
      if (frame.type === 'read' && frame.requestId === undefined) this.onReadElsewhere(frame);
      else if (frame.type === 'notices' && frame.requestId === undefined) this.onNotices(frame);
      else {
        const roomId = this.counts.counted(frame, this.ownKey);
        if (roomId === undefined) return;
        this.mine.activity(frame);
        this.recount(roomId);
      }
    });
    client.on('state', ({ state }) => {
      if (state === 'ready') void this.onReady();
      // The connection is gone (or going): its work stops; the next connect's resubscribe asks for every room followed.
      else if (state !== 'resuming') this.subs.disconnected(state === 'closed');
    });
  }

  /** A read position another device of this person moved: the room counts from it, and the app hears of it. */
  private onReadElsewhere(frame: Record<string, unknown>): void {
    const { roomId, lastReadSeq } = frame;
    // Any frame reaches here before the client checks it (client/validate.ts): a malformed one changes nothing.
    if (typeof roomId !== 'string' || roomId === LOBBY) return;
    if (typeof lastReadSeq !== 'number' || !Number.isSafeInteger(lastReadSeq) || lastReadSeq < 0) return;
    this.reads.learned(roomId, lastReadSeq);
    this.recount(roomId);
    this.emit('read', { type: 'read', roomId, lastReadSeq });
  }

  /** A room's notices as the server keeps them now: the listed room carries them, and the app hears of it. */
  private onNotices(frame: Record<string, unknown>): void {
    const { roomId, notices } = frame;
    // Any frame reaches here before the client checks it (client/validate.ts): a malformed one changes nothing.
    if (typeof roomId !== 'string' || roomId === LOBBY || !isNoticeChoice(notices)) return;
    this.mine.noticed(roomId, notices);
    this.emit('notices', { type: 'notices', roomId, notices });
  }

  /** The subscriptions, on this object's room objects and counts. */
  private subscriptionsOf(): Subscriptions {
    return new Subscriptions({
      request: (frame) => this.hooks.request(frame),
      requestNow: () => this.need(this.hooks.requestNow),
      shown: () => this.hooks.roomId(),
      error: (error) => this.hooks.error?.(error),
      random: () => (this.options.random ?? Math.random)(),
      lastSeqOf: (roomId) => this.handles.get(roomId)?.lastSeq,
      resumeAfter: (roomId) => this.handles.get(roomId)?.lastSeq ?? this.counts.baseSeqOf(roomId),
      subscribed: (room, afterSeq) => this.onSubscribed(room, afterSeq),
      take: (roomId, events) => this.take(roomId, events),
      history: (roomId, query) => this.handleOf(roomId).history(query),
    });
  }

  /** The rooms of the last `myrooms` answer, with the client's own reads since then applied. */
  get list(): readonly MyRoom[] {
    return this.mine.list;
  }

  /** Whether the last `myrooms` answer left less recently active rooms out (it lists 100 at most). */
  get more(): boolean {
    return this.mine.more;
  }

  /** The rooms this connection follows: each gets its messages live and counts its unread (the lobby never). */
  get followed(): readonly string[] {
    return [...this.subs.following.keys()];
  }

  /**
   * The room `roomId` (a code, any case): its events and actions. The same object for the same room; getting it
   * follows nothing by itself (join, create, open a DM or `subscribe` does).
   */
  get(roomId: string): Room {
    return this.handleOf(checkRoomId(roomId));
  }

  /** The room object of a room id the server gave (checked by the server). */
  private handleOf(id: string): Room {
    let room = this.handles.get(id);
    if (!room) {
      room = new Room(id, {
        request: (frame) => this.hooks.request(frame),
        send: (target, text, options) => this.need(this.hooks.send)(target, text, options),
        markRead: (target, seq) => this.markRead(seq, target),
        changes: (target) => this.need(this.hooks.changes)(target),
        typing: (target, typing) => this.need(this.hooks.typing)(target, typing),
        leave: (target) => this.leave(target),
        unread: (target) => this.unreadOf(target),
        shown: () => this.hooks.roomId(),
      });
      this.handles.set(id, room);
    }
    return room;
  }

  /** A room of a `subscribed` answer, asked after `afterSeq`: its events handed over and counted. */
  private onSubscribed(room: SubscribedRoom, afterSeq: number | undefined): void {
    const handle = this.handleOf(room.roomId);
    if (typeof room.memberKey === 'string') this.memberKeys.set(room.roomId, room.memberKey);
    if (!this.counts.has(room.roomId))
      // Not in a myrooms answer: its count starts here (a read position the server keeps shows on the next answer).
      this.counts.rebase({
        roomId: room.roomId,
        lastSeq: afterSeq ?? room.lastSeq,
        lastReadSeq: 0,
        unread: 0,
      });
    if (afterSeq === undefined) handle.startAt(room.lastSeq);
    else handle.startAt(afterSeq);
    const events = (room.events ?? []).filter(isRoomEvent);
    this.take(room.roomId, events);
  }

  /**
   * Follows `rooms` in one `subscribe` frame (up to LIMITS.subscriptionsMax followed in all; the rest come back in
   * `refused` as TOO_MANY_ROOMS without being sent). Each resumes after the last seq this client has of it: those
   * events arrive in the answer and as `message` events of `rooms.get(id)`; a room with more than fits is fetched in
   * the background, one page per HISTORY_PACE_MS. Refused rooms (unknown, closed, not allowed) are not followed;
   * a frame answered BUSY or INTERNAL, and rooms refused so, are asked again (SUBSCRIBE_RETRY).
   */
  subscribe(rooms: readonly RoomToFollow[]): Promise<SubscribedFrame> {
    return this.subs.subscribe(rooms);
  }

  /**
   * After a reconnect, before the client is ready (the room on screen rejoined first): ONE `subscribe` for every
   * other room followed before, each from its last seq, so nothing said meanwhile is missed and the outbox's
   * messages to those rooms go out after they are followed again. Throws when the socket closes meanwhile.
   */
  resubscribe(): Promise<void> {
    return this.subs.resubscribe();
  }

  /** Events of a followed room from a reply (not a pushed frame): handed over and counted as if pushed. */
  private take(roomId: string, events: readonly RoomEventFrame[]): void {
    if (events.length === 0) return;
    for (const event of events) this.counts.counted({ ...event, roomId }, this.ownKey);
    this.handleOf(roomId).deliver(events);
    this.recount(roomId);
  }

  /**
   * With `trackRooms`, after every connect: one `myrooms` for the unread counts and the rooms joined elsewhere or
   * opened meanwhile (a DM), then one `subscribe` for those not followed yet. On a fresh start that is every listed
   * room (up to LIMITS.subscriptionsMax), so each gets its messages and unread count live from then on.
   */
  private async onReady(): Promise<void> {
    if (!this.options.trackRooms) return;
    const generation = this.subs.generation;
    let listed: MyRoom[];
    try {
      listed = await this.myRooms();
    } catch {
      return; // the socket closed, or the server did not answer: the next connect asks again (the list is advisory)
    }
    if (generation !== this.subs.generation) return;
    // Rooms not followed after every attempt stop getting messages until the next connect: the app hears of it.
    await this.subscribe(
      listed.map((r) => ({ roomId: r.roomId, ...(r.inviteKey !== undefined && { key: r.inviteKey }) })),
    ).then(
      ({ refused }) => this.subs.reportStillBusy(refused),
      (error: unknown) => this.subs.report(error),
    );
  }

  /** Follows the rooms a frame says this connection is in now, and forgets the ones it left. */
  private follows(frame: Record<string, unknown>): void {
    const { type, roomId } = frame;
    if (typeof roomId !== 'string' || roomId === LOBBY) return;
    if (type === 'joined') {
      if (typeof frame.memberKey === 'string') this.memberKeys.set(roomId, frame.memberKey);
      // The room starts where its `history` starts: those events and every later one are handed over.
      const joined = frame as unknown as JoinedFrame;
      const first = Array.isArray(joined.history) ? joined.history[0]?.seq : undefined;
      if (typeof joined.lastSeq === 'number')
        this.handleOf(roomId).startAt(typeof first === 'number' ? first - 1 : joined.lastSeq);
      if (this.subs.following.size < LIMITS.subscriptionsMax || this.subs.following.has(roomId))
        this.subs.following.set(roomId, typeof frame.inviteKey === 'string' ? frame.inviteKey : undefined);
    } else if (
      type === 'keyrotated' &&
      this.subs.following.has(roomId) &&
      typeof frame.inviteKey === 'string'
    )
      this.subs.following.set(roomId, frame.inviteKey);
    else if (type === 'left' || type === 'removed' || type === 'roomclosed') this.dropRoom(roomId);
    else if (type === 'typing') this.handles.get(roomId)?.notify('typing', frame as unknown as TypingFrame);
    else if (type === 'presence')
      this.handles.get(roomId)?.notify('presence', frame as unknown as PresenceFrame);
    else if (type === 'memberschanged')
      for (const presence of presencesOf(frame)) this.handles.get(roomId)?.notify('presence', presence);
    else if (type === 'resync') this.onResync(frame as unknown as ResyncFrame);
    else if (type === 'seen') this.handles.get(roomId)?.notify('seen', frame as unknown as SeenFrame);
    else if (type === 'changed')
      this.handles.get(roomId)?.notify('changed', frame as unknown as ChangedFrame);
  }

  /**
   * A room this member is no longer in (left, removed, closed): no longer followed, and out of the rooms list at
   * once (`rooms`), as the next `myrooms` answer would have it, so a page never lists a room it just left.
   */
  private dropRoom(roomId: string): void {
    this.subs.following.delete(roomId);
    this.mine.drop(roomId);
  }

  /** A followed room not on screen missed events: they are fetched (paced); the session fills the room on screen. */
  private onResync(resync: ResyncFrame): void {
    const handle = this.handles.get(resync.roomId);
    handle?.notify('resync', resync);
    this.subs.resync(resync.roomId, resync.afterSeq);
  }

  /** Stops following `roomId` without a request (the server already let it go: a failed rejoin). */
  forget(roomId: string): void {
    this.subs.following.delete(roomId);
  }

  /** Events of a followed room not on screen, as the session received them (RoomSession's `otherroom`). */
  elsewhere(roomId: string, events: readonly RoomEventFrame[]): void {
    this.handleOf(roomId).deliver(events);
  }

  /** An event of the room on screen, handed over in seq order by the session. */
  shownEvent(event: RoomEventFrame): void {
    if (event.roomId !== LOBBY) this.handleOf(event.roomId).deliver([event]);
  }

  /** Stops following `roomId`; the room on screen goes to the lobby. */
  private async leave(roomId: string): Promise<LeftFrame> {
    if (roomId === this.hooks.roomId()) return this.need(this.hooks.leaveShown)();
    const left = await this.hooks.request({ action: 'leaveroom', roomId });
    this.dropRoom(roomId);
    return left;
  }

  /** Asks for the member's rooms and their unread counts; also emits `rooms`. */
  async myRooms(): Promise<MyRoom[]> {
    return this.mine.answered(await this.hooks.request({ action: 'myrooms' }));
  }

  /**
   * Marks `roomId` (default the room on screen) read up to `seq`. Coalesced: resolves with the server's `read`
   * frame once the position is sent (at most one round of requests per interval), or undefined when it is no higher
   * than one already sent, or the room is no longer followed when the interval ends.
   */
  markRead(seq: number, roomId: string = this.hooks.roomId()): Promise<ReadFrame | undefined> {
    return this.reads.mark(seq, roomId);
  }

  /**
   * Sets this member's notices in `roomId`, one of its rooms (`all`, `mentions` or `mute`), kept by the server:
   * `myRooms()` lists them on every device, and the person's other signed-in devices hear of it at once (`notices`).
   */
  async setNotices(roomId: string, notices: NoticeChoice): Promise<NoticesFrame> {
    if (!isNoticeChoice(notices))
      throw new RoomcastError('INVALID_ARGUMENT', 'notices is "all", "mentions" or "mute".');
    const answer = await this.hooks.request({ action: 'setnotices', roomId: checkRoomId(roomId), notices });
    this.onNotices(answer as unknown as Record<string, unknown>);
    return answer;
  }

  /** Rooms entered or left on another device of this person, and DMs opened to it (roomsElsewhere.ts). */
  private readonly elsewhereHost: ElsewhereHost = {
    trackRooms: () => this.options.trackRooms === true,
    list: (room, dm) => {
      this.mine.opened(room);
      if (dm) this.emit('dm', room as DmOpenedFrame['room']);
      this.emit('rooms', this.mine.list);
    },
    holds: (roomId) => this.subs.following.has(roomId) || roomId === this.hooks.roomId(),
    follow: (rooms) =>
      void this.subscribe(rooms).then(
        ({ refused }) => this.subs.reportStillBusy(refused),
        (error: unknown) => this.subs.report(error),
      ),
    drop: (roomId) => this.dropRoom(roomId),
    leave: (roomId) => this.leave(roomId),
  };

  /** The live unread count of `roomId`, listed in a myrooms answer or not. */
  unreadOf(roomId: string): RoomUnread {
    return this.mine.unreadOf(roomId);
  }

  /** Emits `rooms` again when a frame changed a listed room's count or latest seq, and the room's `unread`. */
  private recount(roomId: string): void {
    this.mine.recount(roomId);
  }
}
