import type {
  AckFrame,
  AskOf,
  ChangedFrame,
  DmOpenedFrame,
  FoundFrame,
  JoinedFrame,
  LeftFrame,
  MyRoom,
  Person,
  PresenceFrame,
  ReadFrame,
  ResyncFrame,
  RoomEventFrame,
  SeenByFrame,
  SubscribedFrame,
  SubscribedRoom,
  SubscribeRefusal,
  TypingFrame,
} from '../protocol';
import {
  foldName,
  isUserId,
  LIMITS,
  LOBBY,
  normalizeRoomId,
  PATTERNS,
  PEOPLE_LIMITS,
  SEARCH_LIMITS,
  searchWords,
} from '../protocol';
import { type BackoffPolicy, fullJitterDelay } from './backoff';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import { CHANGE_RETRY, type MessageChanges, RETRY_CODES } from './messages';
import { ReadPositions } from './readPositions';
import type { Requester } from './requests';
import type { RoomUnread, SeenFrame } from './room';
import { Room } from './room';
import type { JoinAction } from './session';
import { INDEX_LAG_MS } from './session';
import type { RoomcastClientOptions, SendOptions, StateChange } from './types';
import { UnreadCounts } from './unreadCounts';
import { checkRoomId, isRoomEvent, presencesOf } from './validate';

/**
 * The rooms this connection follows, read positions, "my rooms" and direct messages (docs/CLIENT.md, "Many rooms"
 * and "Unread counts, direct messages, edits").
 *
 * ```ts
 * const client = createRoomcastClient({ url, getToken, trackRooms: true });
 * client.rooms.on('rooms', (rooms) => render(rooms.map((r) => `${r.roomId}: ${r.unread}`)));
 * client.rooms.get('K7M2QDHT').on('unread', ({ unread }) => badge(unread)); // one room, live
 * client.on('message', (m) => client.rooms.markRead(m.seq)); // coalesced: one markread per interval at most
 * const dm = await client.rooms.openDirect({ userId });       // the pair's one room; the client is in it now
 * ```
 *
 * `markRead` sends at most one round per `readIntervalMs` (default 5 s), one `markread` per room marked since the
 * last, each only a position higher than the last one sent for its room, so reading a busy room costs a handful of
 * requests, not one per message. After every connect a client made with `trackRooms` asks `myrooms` once and emits `rooms` (the unread
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

/** What a findPeople prefix may hold: characters of a name (docs/PROTOCOL.md, "Limits and errors"). */
const NAME_CHARS = new RegExp(`^(?:${PATTERNS.usernameChar})+$`, 'u');

export interface MemberHooks {
  /** Sends a request once the client is ready, again after a reconnect that lost the answer. */
  request: Requester;
  /** Sends a join-like request through the room session (answered `joined`). */
  join(frame: AskOf<JoinAction>): Promise<JoinedFrame>;
  /** Moves the session into the room a `joined` reply names. */
  entered(joined: JoinedFrame): void;
  /** The room on screen (the connection's `roomId`). */
  roomId(): string;
  /** Sends a request now, without waiting for the client to be ready (the resume before it is). */
  requestNow?: Requester;
  /** Sends a message to `roomId` through the outbox. */
  send?(roomId: string, text: string, options: SendOptions): Promise<AckFrame>;
  /** The change sender of `roomId` (edits, deletes, reactions, pins: client/messages.ts). */
  changes?(roomId: string): MessageChanges;
  /** A typing heartbeat (or stop) in `roomId`; false when nothing was sent. */
  typing?(roomId: string, typing: boolean): boolean;
  /** Leaves the room on screen for the lobby (the session follows). */
  leaveShown?(): Promise<LeftFrame>;
  /** A lasting failure no caller waits for (rooms the server would not let this connection follow): `error`. */
  error?(error: RoomcastError): void;
}

export interface MemberEvents {
  /**
   * The member's rooms with unread counts: each `myRooms()` answer, after every connect with `trackRooms`, and
   * with a direct message someone opened added (`dm`).
   */
  rooms: MyRoom[];
  /** Someone opened a direct-message room with this user that was not in its rooms; `rooms` follows. */
  dm: DmOpenedFrame['room'];
}

export type DirectTarget = { userId: string } | { username: string };

/** A room to follow: its id, and its invite key when the client has one (a member needs none). */
export type RoomToFollow = string | { roomId: string; key?: string };

/**
 * A followed room's history still to fetch after a resubscribe said `hasMore`: one page per this many ms, so a
 * reconnect into many busy rooms stays far inside the per-connection frame budget (FrameRateLimit, 100 a minute).
 * The room on screen is not paced: the session fills it at once.
 */
export const HISTORY_PACE_MS = 2000;

/**
 * How a `subscribe` answered BUSY or INTERNAL, as a whole or for some of its rooms, is asked again: the server answers
 * so when it met a limit for now (its deadline, DynamoDB throttling) or failed midway, and asking again is harmless (a
 * room followed already is answered as it stands, nothing written). Without it a page stops getting those rooms'
 * messages, and their unread counts stop rising, until the next reconnect. As changes are (CHANGE_RETRY): full jitter
 * up to 250 ms, 500 ms, 1 s, four attempts in all. A (re)connect meanwhile ends the tries: its resubscribe asks for
 * every followed room anyway.
 */
export const SUBSCRIBE_RETRY: BackoffPolicy = CHANGE_RETRY;

/** One room of a `subscribe` frame. */
interface SubscribeEntry {
  roomId: string;
  key?: string;
  afterSeq?: number;
}

export class MemberRooms extends Emitter<MemberEvents> {
  private rooms: MyRoom[] = [];
  private hasMore = false;
  /** Read positions sent and waiting (readPositions.ts). */
  private readonly reads: ReadPositions;
  /** Per room: what the frames since the last `myrooms` answer add to its count (unreadCounts.ts). */
  private readonly counts = new UnreadCounts();
  /** The rooms this connection follows (the one on screen included), with the invite key known for each. */
  private readonly following = new Map<string, string | undefined>();
  private readonly handles = new Map<string, Room>();
  /** This member's key in each room (`joined`, `subscribed`): a message with it as `authorKey` is its own. */
  private readonly memberKeys = new Map<string, string>();
  private readonly ownKey = (roomId: string) => this.memberKeys.get(roomId);
  /** The unread count last told to each room's `unread` listeners. */
  private readonly told = new Map<string, string>();
  /** Followed rooms whose history a resubscribe left to fetch (`hasMore`), fetched one page per HISTORY_PACE_MS. */
  private readonly toFetch: string[] = [];
  /**
   * Where a waiting room's next page starts when that is below its last seq: a `resync` may name events below it
   * (one stored late, after later ones came), which the room object hands over, late, if it has not yet.
   */
  private readonly fetchFrom = new Map<string, number>();
  private fetchTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by each (re)connect: work of an older connection stops. */
  private generation = 0;

  constructor(
    client: {
      on(event: 'state', listener: (change: StateChange) => void): unknown;
      on(event: 'frame', listener: (frame: { frame?: Record<string, unknown> }) => void): unknown;
    },
    private readonly options: Pick<RoomcastClientOptions, 'trackRooms' | 'readIntervalMs' | 'random'>,
    private readonly hooks: MemberHooks,
    now: () => number = Date.now,
  ) {
    super();
    this.reads = new ReadPositions(
      {
        request: (frame) => this.hooks.request(frame),
        shown: () => this.hooks.roomId(),
        follows: (roomId) => this.following.has(roomId),
        read: (roomId) => this.recount(roomId),
      },
      // 12 a minute at most: well within FrameRateLimit's room beside the sends SendRateLimit allows.
      options.readIntervalMs ?? 5000,
      now,
    );
    client.on('frame', ({ frame }) => {
      if (!frame) return;
      this.follows(frame);
      if (frame.type === 'dmopened') this.onDmOpened((frame as unknown as DmOpenedFrame).room);
      else {
        const roomId = this.counts.counted(frame, this.ownKey);
        if (roomId !== undefined) this.recount(roomId);
      }
    });
    client.on('state', ({ state }) => {
      if (state === 'ready') void this.onReady();
      else if (state !== 'resuming') {
        // The connection is gone (or going): its work stops, a subscribe waiting to be asked again too; the next
        // connect's resubscribe asks for every room followed.
        this.generation += 1;
        if (state === 'closed') clearTimeout(this.fetchTimer);
      }
    });
  }

  /** The rooms of the last `myrooms` answer, with the client's own reads since then applied. */
  get list(): readonly MyRoom[] {
    return this.rooms;
  }

  /** Whether the last `myrooms` answer left less recently active rooms out (it lists 100 at most). */
  get more(): boolean {
    return this.hasMore;
  }

  /** The rooms this connection follows: each gets its messages live and counts its unread (the lobby never). */
  get followed(): readonly string[] {
    return [...this.following.keys()];
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

  /**
   * Follows `rooms` in one `subscribe` frame (up to LIMITS.subscriptionsMax followed in all; the rest come back in
   * `refused` as TOO_MANY_ROOMS without being sent). Each resumes after the last seq this client has of it: those
   * events arrive in the answer and as `message` events of `rooms.get(id)`; a room with more than fits is fetched in
   * the background, one page per HISTORY_PACE_MS. Refused rooms (unknown, closed, not allowed) are not followed;
   * a frame answered BUSY or INTERNAL, and rooms refused so, are asked again (SUBSCRIBE_RETRY).
   */
  async subscribe(rooms: readonly RoomToFollow[]): Promise<SubscribedFrame> {
    const wanted = new Map<string, string | undefined>();
    for (const room of rooms) {
      const { roomId, key } = typeof room === 'string' ? { roomId: room, key: undefined } : room;
      const id = checkRoomId(roomId);
      if (id !== LOBBY && !this.following.has(id) && id !== this.hooks.roomId()) wanted.set(id, key);
    }
    const room = Math.max(0, LIMITS.subscriptionsMax - this.following.size);
    const asked = [...wanted].slice(0, room);
    const over = [...wanted].slice(room).map(([roomId]) => ({
      roomId,
      code: 'TOO_MANY_ROOMS' as const,
      message: `A connection follows at most ${LIMITS.subscriptionsMax} rooms.`,
    }));
    if (asked.length === 0) return { type: 'subscribed', rooms: [], refused: over };
    const answer = await this.sendSubscribe(asked, this.hooks.request);
    return { ...answer, refused: [...answer.refused, ...over] };
  }

  /**
   * ONE `subscribe` for `asked`, followed from now on, asked again as SUBSCRIBE_RETRY says for the rooms the server
   * was busy with. Rooms refused for good are not followed. A (re)connect during a wait rejects DISCONNECTED and
   * leaves the rooms still waiting followed, for its resubscribe to ask for.
   */
  private async sendSubscribe(
    asked: Array<[string, string | undefined]>,
    request: MemberHooks['request'],
    resuming = false,
  ): Promise<SubscribedFrame> {
    for (const [roomId, key] of asked) this.following.set(roomId, key);
    const followed: SubscribedRoom[] = [];
    let outcome: { refused: SubscribeRefusal[]; stopped: boolean };
    try {
      outcome = await this.subscribeRetrying(
        asked.map(([roomId]) => roomId),
        request,
        (answer, rooms) => {
          for (const subscribed of answer.rooms ?? []) {
            this.onSubscribed(subscribed, rooms);
            followed.push(subscribed);
          }
        },
      );
    } catch (error) {
      // A resume that lost its socket is tried again by the next connect, for the same rooms.
      if (!resuming)
        for (const [roomId] of asked)
          if (!followed.some((room) => room.roomId === roomId)) this.following.delete(roomId);
      throw error;
    }
    for (const refused of outcome.refused) this.following.delete(refused.roomId);
    if (outcome.stopped)
      throw new RoomcastError(
        'DISCONNECTED',
        'The connection closed before the server, busy, was asked again; the reconnect follows these rooms.',
        { action: 'subscribe' },
      );
    this.checkAfterLag(followed);
    return { type: 'subscribed', rooms: followed, refused: outcome.refused };
  }

  /** A room as a `subscribe` frame names it: its invite key if known, after what this client has of it. */
  private entryOf(roomId: string): SubscribeEntry {
    const key = this.following.get(roomId);
    // Resume after what this client has of the room: its events, else the last myrooms answer's seq.
    const afterSeq = this.handles.get(roomId)?.lastSeq ?? this.counts.baseSeqOf(roomId);
    return { roomId, ...(key !== undefined && { key }), ...(afterSeq !== undefined && { afterSeq }) };
  }

  /**
   * Sends `subscribe` for `roomIds` and hands each answer to `took`. A frame answered BUSY or INTERNAL is sent again,
   * and so is one for the rooms an answer refused so, after a full-jitter wait (SUBSCRIBE_RETRY), each room after
   * what this client has of it by then; never a room refused for good (unknown, closed, not allowed), nor one left or
   * shown since. Resolves with the rooms refused for good and those still busy after the last attempt; `stopped`
   * when a (re)connect came during a wait. Rejects with the frame's error when it is not worth repeating or the
   * last attempt got it.
   */
  private async subscribeRetrying(
    roomIds: readonly string[],
    request: MemberHooks['request'],
    took: (answer: SubscribedFrame, asked: SubscribeEntry[]) => void,
  ): Promise<{ refused: SubscribeRefusal[]; stopped: boolean }> {
    const generation = this.generation;
    const refused: SubscribeRefusal[] = [];
    let waiting = roomIds;
    for (let attempt = 1; ; attempt++) {
      const asked = waiting.map((roomId) => this.entryOf(roomId));
      try {
        const answer = await request({ action: 'subscribe', rooms: asked });
        took(answer, asked);
        const busy = (answer.refused ?? []).filter((r) => RETRY_CODES.has(r.code));
        refused.push(...(answer.refused ?? []).filter((r) => !RETRY_CODES.has(r.code)));
        if (busy.length === 0) return { refused, stopped: false };
        if (attempt >= SUBSCRIBE_RETRY.maxAttempts) return { refused: [...refused, ...busy], stopped: false };
        waiting = busy.map((r) => r.roomId);
      } catch (error) {
        const retryable = error instanceof RoomcastError && RETRY_CODES.has(error.code);
        if (!retryable || attempt >= SUBSCRIBE_RETRY.maxAttempts) throw error;
      }
      const delayMs = fullJitterDelay(SUBSCRIBE_RETRY, attempt - 1, this.options.random ?? Math.random);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (generation !== this.generation) return { refused, stopped: true };
      waiting = waiting.filter((roomId) => this.following.has(roomId) && roomId !== this.hooks.roomId());
      if (waiting.length === 0) return { refused, stopped: false };
    }
  }

  /** A subscribe no caller waits for failed for good: the client's `error` event (a closed socket is no failure). */
  private report(error: unknown): void {
    if (error instanceof RoomcastError && error.code !== 'DISCONNECTED' && error.code !== 'CLOSED')
      this.hooks.error?.(error);
  }

  /** Rooms the server stayed busy for through every attempt, told as the `error` event (one for all of them). */
  private reportStillBusy(refused: readonly SubscribeRefusal[]): void {
    const busy = refused.filter((r) => RETRY_CODES.has(r.code));
    const first = busy[0];
    if (first === undefined) return;
    const rooms = busy.map((r) => r.roomId).join(', ');
    this.hooks.error?.(
      new RoomcastError(
        first.code,
        `Not following ${rooms}: asked ${SUBSCRIBE_RETRY.maxAttempts} times, the server answered: ${first.message}`,
        { action: 'subscribe' },
      ),
    );
  }

  /**
   * INDEX_LAG_MS after a `subscribe`: the rooms that brought nothing since (quiet rooms, where no next message would
   * reveal one the room index's lag kept from this connection) are asked again in ONE `subscribe`, each after its
   * last seq; a room followed already is answered with its events and nothing is written (docs/PROTOCOL.md).
   */
  private checkAfterLag(rooms: readonly SubscribedRoom[]): void {
    const since = new Map(
      rooms.filter((r) => r.hasMore !== true).map((r) => [r.roomId, this.handles.get(r.roomId)?.lastSeq]),
    );
    if (since.size === 0) return;
    const generation = this.generation;
    setTimeout(() => {
      if (generation !== this.generation) return;
      const again = [...since].filter(
        ([roomId, seq]) =>
          this.following.has(roomId) &&
          roomId !== this.hooks.roomId() &&
          this.handles.get(roomId)?.lastSeq === seq,
      );
      if (again.length === 0) return;
      this.subscribeRetrying(
        again.map(([roomId]) => roomId),
        this.hooks.request,
        (answer) => {
          if (generation !== this.generation) return;
          for (const room of answer.rooms ?? []) {
            this.take(room.roomId, (room.events ?? []).filter(isRoomEvent));
            if (room.hasMore && !this.toFetch.includes(room.roomId)) {
              this.toFetch.push(room.roomId);
              this.fetchLater();
            }
          }
        },
      ).then(
        ({ refused }) => this.reportStillBusy(refused),
        (error: unknown) => this.report(error), // a closed socket: the next connect resubscribes from each last seq
      );
    }, INDEX_LAG_MS);
  }

  /** A room of a `subscribed` answer: its events handed over and counted, the rest fetched paced when it has more. */
  private onSubscribed(room: SubscribedRoom, asked: Array<{ roomId: string; afterSeq?: number }>): void {
    const handle = this.handleOf(room.roomId);
    if (typeof room.memberKey === 'string') this.memberKeys.set(room.roomId, room.memberKey);
    const afterSeq = asked.find((a) => a.roomId === room.roomId)?.afterSeq;
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
    if (room.hasMore && !this.toFetch.includes(room.roomId)) {
      this.toFetch.push(room.roomId);
      this.fetchLater();
    }
  }

  /** Events of a followed room from a reply (not a pushed frame): handed over and counted as if pushed. */
  private take(roomId: string, events: readonly RoomEventFrame[]): void {
    if (events.length === 0) return;
    for (const event of events) this.counts.counted({ ...event, roomId }, this.ownKey);
    this.handleOf(roomId).deliver(events);
    this.recount(roomId);
  }

  private fetchLater(): void {
    this.fetchTimer ??= setTimeout(() => {
      this.fetchTimer = undefined;
      void this.fetchNext();
    }, HISTORY_PACE_MS);
  }

  /** One page of the next room waiting for its history; again after HISTORY_PACE_MS while any wait. */
  private async fetchNext(): Promise<void> {
    const roomId = this.toFetch.shift();
    if (roomId === undefined) return;
    const generation = this.generation;
    // The room on screen is the session's to fill; a room no longer followed needs nothing.
    if (this.following.has(roomId) && roomId !== this.hooks.roomId()) {
      try {
        const handle = this.handleOf(roomId);
        const lastSeq = handle.lastSeq ?? 0;
        const afterSeq = Math.min(lastSeq, this.fetchFrom.get(roomId) ?? lastSeq);
        this.fetchFrom.delete(roomId);
        const page = await handle.history({ afterSeq, limit: LIMITS.historyMax });
        if (generation !== this.generation) return;
        this.take(roomId, page.messages);
        const last = page.messages.at(-1)?.seq;
        if (page.hasMore === true && last !== undefined) {
          if (last < lastSeq) this.fetchFrom.set(roomId, last);
          this.toFetch.push(roomId);
        }
      } catch {
        if (generation !== this.generation) return; // the next connect resubscribes and asks again
      }
    }
    if (this.toFetch.length > 0) this.fetchLater();
  }

  /**
   * After a reconnect, before the client is ready (the room on screen rejoined first): ONE `subscribe` for every
   * other room followed before, each from its last seq, so nothing said meanwhile is missed and the outbox's
   * messages to those rooms go out after they are followed again. Throws when the socket closes meanwhile.
   */
  async resubscribe(): Promise<void> {
    this.generation += 1;
    clearTimeout(this.fetchTimer);
    this.fetchTimer = undefined;
    this.toFetch.length = 0;
    this.fetchFrom.clear();
    const shown = this.hooks.roomId();
    this.following.delete(LOBBY);
    if (shown !== LOBBY) this.following.set(shown, this.following.get(shown));
    const again = [...this.following].filter(([roomId]) => roomId !== shown);
    if (again.length === 0) return;
    const { refused } = await this.sendSubscribe(again, this.need(this.hooks.requestNow), true);
    this.reportStillBusy(refused);
  }

  /**
   * With `trackRooms`, after every connect: one `myrooms` for the unread counts and the rooms joined elsewhere or
   * opened meanwhile (a DM), then one `subscribe` for those not followed yet. On a fresh start that is every listed
   * room (up to LIMITS.subscriptionsMax), so each gets its messages and unread count live from then on.
   */
  private async onReady(): Promise<void> {
    if (!this.options.trackRooms) return;
    const generation = this.generation;
    let listed: MyRoom[];
    try {
      listed = await this.myRooms();
    } catch {
      return; // the socket closed, or the server did not answer: the next connect asks again (the list is advisory)
    }
    if (generation !== this.generation) return;
    // Rooms not followed after every attempt stop getting messages until the next connect: the app hears of it.
    await this.subscribe(
      listed.map((r) => ({ roomId: r.roomId, ...(r.inviteKey !== undefined && { key: r.inviteKey }) })),
    ).then(
      ({ refused }) => this.reportStillBusy(refused),
      (error: unknown) => this.report(error),
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
      if (this.following.size < LIMITS.subscriptionsMax || this.following.has(roomId))
        this.following.set(roomId, typeof frame.inviteKey === 'string' ? frame.inviteKey : undefined);
    } else if (type === 'keyrotated' && this.following.has(roomId) && typeof frame.inviteKey === 'string')
      this.following.set(roomId, frame.inviteKey);
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
    this.following.delete(roomId);
    if (!this.rooms.some((r) => r.roomId === roomId)) return;
    this.rooms = this.rooms.filter((r) => r.roomId !== roomId);
    this.emit('rooms', this.rooms);
  }

  /** A followed room not on screen missed events: they are fetched (paced); the session fills the room on screen. */
  private onResync(resync: ResyncFrame): void {
    const handle = this.handles.get(resync.roomId);
    handle?.notify('resync', resync);
    if (resync.roomId === this.hooks.roomId() || !this.following.has(resync.roomId)) return;
    if (Number.isSafeInteger(resync.afterSeq) && resync.afterSeq >= 0)
      this.fetchFrom.set(
        resync.roomId,
        Math.min(this.fetchFrom.get(resync.roomId) ?? resync.afterSeq, resync.afterSeq),
      );
    if (!this.toFetch.includes(resync.roomId)) this.toFetch.push(resync.roomId);
    this.fetchLater();
  }

  /** Stops following `roomId` without a request (the server already let it go: a failed rejoin). */
  forget(roomId: string): void {
    this.following.delete(roomId);
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

  private need<F>(hook: F | undefined): F {
    if (hook === undefined) throw new RoomcastError('INVALID_ARGUMENT', 'This client cannot do that.');
    return hook;
  }

  /** Asks for the member's rooms and their unread counts; also emits `rooms`. */
  async myRooms(): Promise<MyRoom[]> {
    const frame = await this.hooks.request({ action: 'myrooms' });
    for (const room of frame.rooms) this.counts.rebase(room);
    this.rooms = frame.rooms.map((r) => this.withOwnReads(r));
    this.hasMore = frame.more === true;
    this.emit('rooms', this.rooms);
    for (const room of frame.rooms) this.tellUnread(room.roomId);
    return this.rooms;
  }

  /**
   * Marks `roomId` (default the room on screen) read up to `seq`. Coalesced: resolves with the server's `read`
   * frame once the position is sent (at most one round of requests per interval), or undefined when it is no higher
   * than one already sent, or the room is no longer followed when the interval ends.
   */
  markRead(seq: number, roomId: string = this.hooks.roomId()): Promise<ReadFrame | undefined> {
    return this.reads.mark(seq, roomId);
  }

  /** Each member of the current room with its read position (rooms up to the deployment's size for it). */
  seenBy = async (): Promise<SeenByFrame> => await this.hooks.request({ action: 'seenby' });

  /**
   * Signed-in people this user shares a room with whose name starts with `prefix` (any case), sorted by name, at
   * most `limit` (1–20, default 20); open a DM with one by `openDirect({ userId })`. A prefix that cannot start a
   * name (empty, over 32 characters, a character no name has) is refused here, before any request (INVALID_ARGUMENT);
   * without sign-in the server refuses it
   * FORBIDDEN with a sentence saying why.
   */
  async findPeople(prefix: string, options: { limit?: number } = {}): Promise<Person[]> {
    const folded = typeof prefix === 'string' ? foldName(prefix) : '';
    const chars = [...folded].length;
    // Checked as the server checks it, so typing into a search box never costs the connection a strike.
    if (chars < 1 || chars > PEOPLE_LIMITS.prefixMaxChars || !NAME_CHARS.test(folded))
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A name starts with 1–${PEOPLE_LIMITS.prefixMaxChars} letters, digits, spaces or ' - _ . @.`,
      );
    const { limit } = options;
    if (
      limit !== undefined &&
      (!Number.isSafeInteger(limit) || limit < 1 || limit > PEOPLE_LIMITS.maxResults)
    )
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `limit must be a whole number from 1 to ${PEOPLE_LIMITS.maxResults}.`,
      );
    const frame = await this.hooks.request({
      action: 'findpeople',
      prefix: folded,
      ...(limit !== undefined && { limit }),
    });
    return frame.people;
  }

  /**
   * The messages of this connection's rooms (or of `roomId`, one of them) holding every word of `query` (whole words,
   * any case or accent), newest first, at most `limit` (1–20, default 20); `more` when more match. A query the server
   * would refuse (no word of 2+ letters or digits, over 100 characters or 5 words) is INVALID_ARGUMENT here, with no
   * request (no strike); a room this connection is not in is refused NOT_SUBSCRIBED by the server. Highlight a hit's
   * words with `matchSpans(text, found.words)`.
   */
  async search(
    query: string,
    options: { roomId?: string; limit?: number; before?: string } = {},
  ): Promise<FoundFrame> {
    const words = typeof query === 'string' ? searchWords(query) : [];
    if (typeof query !== 'string' || query.length > SEARCH_LIMITS.queryMaxChars || words.length === 0)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `Search for 1–${SEARCH_LIMITS.queryMaxWords} words of ${SEARCH_LIMITS.wordMinChars} or more letters or digits, in at most ${SEARCH_LIMITS.queryMaxChars} characters.`,
      );
    if (words.length > SEARCH_LIMITS.queryMaxWords)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `Search for at most ${SEARCH_LIMITS.queryMaxWords} words at once.`,
      );
    const { roomId, limit, before } = options;
    if (before !== undefined && (typeof before !== 'string' || before === ''))
      throw new RoomcastError('INVALID_ARGUMENT', 'before must be the next of the page before.');
    if (roomId !== undefined && normalizeRoomId(roomId) === undefined)
      throw new RoomcastError('INVALID_ARGUMENT', 'roomId must be a room code.');
    if (
      limit !== undefined &&
      (!Number.isSafeInteger(limit) || limit < 1 || limit > SEARCH_LIMITS.maxResults)
    )
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `limit must be a whole number from 1 to ${SEARCH_LIMITS.maxResults}.`,
      );
    return this.hooks.request({
      action: 'search',
      query,
      ...(roomId !== undefined && { roomId: normalizeRoomId(roomId) }),
      ...(limit !== undefined && { limit }),
      ...(before !== undefined && { before }),
    });
  }

  /**
   * Enters the direct-message room with another signed-in user, named by `userId` (from `seenBy` or `myRooms`) or
   * by `username` as the current room's member list shows it, or by a `userId` `findPeople` found (anyone this user
   * shares a room with, wherever it is now). Refused FORBIDDEN without sign-in.
   */
  async openDirect(target: DirectTarget): Promise<JoinedFrame> {
    if ('userId' in target && !isUserId(target.userId))
      throw new RoomcastError('INVALID_ARGUMENT', 'userId must be an id seenBy() or myRooms() gave.');
    const joined = await this.hooks.join({ action: 'opendm', ...target });
    this.hooks.entered(joined);
    return joined;
  }

  /** A direct message opened with this user: first in the list (newest activity), in place of any older entry. */
  private onDmOpened(room: DmOpenedFrame['room']): void {
    this.counts.rebase(room);
    this.rooms = [this.withOwnReads(room), ...this.rooms.filter((r) => r.roomId !== room.roomId)];
    this.emit('dm', room);
    this.emit('rooms', this.rooms);
    // Followed at once, so its messages and unread count arrive live from now on.
    if (!this.following.has(room.roomId))
      this.subscribe([{ roomId: room.roomId }]).then(
        ({ refused }) => this.reportStillBusy(refused),
        (error: unknown) => this.report(error),
      );
  }

  /** The live unread count of `roomId`, listed in a myrooms answer or not. */
  unreadOf(roomId: string): RoomUnread {
    const listed = this.rooms.find((r) => r.roomId === roomId);
    const view = this.withOwnReads(
      listed ?? { roomId, lastSeq: this.counts.lastSeqOf(roomId) ?? 0, lastReadSeq: 0, unread: 0 },
    );
    return { roomId, unread: view.unread, ...(view.unreadMore === true && { unreadMore: true as const }) };
  }

  /** Tells the room's `unread` listeners when its count changed. */
  private tellUnread(roomId: string): void {
    const handle = this.handles.get(roomId);
    if (!handle) return;
    const now = this.unreadOf(roomId);
    const text = `${now.unread}${now.unreadMore ? '+' : ''}`;
    if (this.told.get(roomId) === text) return;
    this.told.set(roomId, text);
    handle.notify('unread', now);
  }

  /** Emits `rooms` again when a frame changed a listed room's count or latest seq, and the room's `unread`. */
  private recount(roomId: string): void {
    const before = this.rooms;
    this.rooms = this.rooms.map((r) => this.withOwnReads(r));
    if (this.rooms.some((r, i) => r.unread !== before[i]?.unread || r.lastSeq !== before[i]?.lastSeq))
      this.emit('rooms', this.rooms);
    this.tellUnread(roomId);
  }

  /** The room with the client's own reads and the frames since the answer applied (UnreadCounts.applied). */
  private withOwnReads(room: MyRoom): MyRoom {
    return this.counts.applied(room, Math.max(room.lastReadSeq, this.reads.sentFor(room.roomId)));
  }
}
