import type {
  HistoryFrame,
  RoomEventFrame,
  SubscribedFrame,
  SubscribedRoom,
  SubscribeRefusal,
} from '../protocol';
import { LIMITS, LOBBY } from '../protocol';
import { type BackoffPolicy, fullJitterDelay } from './backoff';
import { RoomcastError } from './errors';
import { CHANGE_RETRY, REASK_CODES, RETRY_CODES } from './messages';
import type { Requester } from './requests';
import { INDEX_LAG_MS } from './session';
import { checkRoomId, isRoomEvent } from './validate';

/**
 * The rooms a connection follows (docs/CLIENT.md, "Many rooms"): `subscribe` in one frame, asked again while the
 * server is busy, asked again after the room index's lag, resubscribed after every reconnect, and the history a
 * followed room still has to fetch, paced. MemberRooms (client/members.ts) owns the room objects and counts; this
 * keeps which rooms are followed, with their invite keys.
 */

/** A room to follow: its id, and its invite key when the client has one (a member needs none). */
export type RoomToFollow = string | { roomId: string; key?: string };

/**
 * A followed room's history still to fetch after a resubscribe said `hasMore`: one page per this many ms, so a
 * reconnect into many busy rooms stays far inside the per-connection frame budget (FrameRateLimit, 100 a minute).
 * The room on screen is not paced: the session fills it at once.
 */
export const HISTORY_PACE_MS = 2000;

/**
 * How a `subscribe` answered BUSY or INTERNAL, as a whole or for some of its rooms, or not answered in time, is asked
 * again: the server answers so when it met a limit for now (its deadline, DynamoDB throttling) or failed midway, an
 * answer may be lost or late, and asking again is harmless (a room followed already is answered as it stands, nothing
 * written). Without it a page stops getting those rooms'
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

/** What subscriptions use of MemberRooms: the room objects, the counts and the client's hooks. */
export interface SubscriptionHost {
  /** A request once the client is ready, again after a reconnect that lost the answer. */
  request: Requester;
  /** A request now, while the client resumes (before it is ready). */
  requestNow(): Requester;
  /** The room on screen (the session fills it; it is never fetched here). */
  shown(): string;
  /** A lasting failure no caller waits for: the client's `error` event. */
  error(error: RoomcastError): void;
  random(): number;
  /** The highest seq of the room handed over to its room object. */
  lastSeqOf(roomId: string): number | undefined;
  /** Where a `subscribe` resumes the room: after its events here, else the last myrooms answer's seq. */
  resumeAfter(roomId: string): number | undefined;
  /** A room of a `subscribed` answer, asked after `afterSeq`: its room object starts there, its events handed over. */
  subscribed(room: SubscribedRoom, afterSeq: number | undefined): void;
  /** Events of a followed room from a reply, handed over and counted as if pushed. */
  take(roomId: string, events: readonly RoomEventFrame[]): void;
  /** A page of a followed room's history. */
  history(roomId: string, query: { afterSeq: number; limit: number }): Promise<HistoryFrame>;
}

export class Subscriptions {
  /** The rooms this connection follows (the one on screen included), with the invite key known for each. */
  readonly following = new Map<string, string | undefined>();
  /** Followed rooms whose history a resubscribe left to fetch (`hasMore`), fetched one page per HISTORY_PACE_MS. */
  private readonly toFetch: string[] = [];
  /**
   * Where a waiting room's next page starts when that is below its last seq: a `resync` may name events below it
   * (one stored late, after later ones came), which the room object hands over, late, if it has not yet.
   */
  private readonly fetchFrom = new Map<string, number>();
  private fetchTimer: ReturnType<typeof setTimeout> | undefined;
  private epoch = 0;

  constructor(private readonly host: SubscriptionHost) {}

  /** Bumped by each (re)connect: work of an older connection stops. */
  get generation(): number {
    return this.epoch;
  }

  /** The connection is gone (or going): its work stops, a subscribe waiting to be asked again too. */
  disconnected(closed: boolean): void {
    this.epoch += 1;
    if (closed) clearTimeout(this.fetchTimer);
  }

  /** `client.rooms.subscribe` (MemberRooms.subscribe says what the app gets): rooms past the limit are not sent. */
  async subscribe(rooms: readonly RoomToFollow[]): Promise<SubscribedFrame> {
    const wanted = new Map<string, string | undefined>();
    for (const room of rooms) {
      const { roomId, key } = typeof room === 'string' ? { roomId: room, key: undefined } : room;
      const id = checkRoomId(roomId);
      if (id !== LOBBY && !this.following.has(id) && id !== this.host.shown()) wanted.set(id, key);
    }
    const room = Math.max(0, LIMITS.subscriptionsMax - this.following.size);
    const asked = [...wanted].slice(0, room);
    const over = [...wanted].slice(room).map(([roomId]) => ({
      roomId,
      code: 'TOO_MANY_ROOMS' as const,
      message: `A connection follows at most ${LIMITS.subscriptionsMax} rooms.`,
    }));
    if (asked.length === 0) return { type: 'subscribed', rooms: [], refused: over };
    const answer = await this.sendSubscribe(asked, this.host.request);
    return { ...answer, refused: [...answer.refused, ...over] };
  }

  /**
   * ONE `subscribe` for `asked`, followed from now on, asked again as SUBSCRIBE_RETRY says for the rooms the server
   * was busy with. Rooms refused for good are not followed. A (re)connect during a wait rejects DISCONNECTED and
   * leaves the rooms still waiting followed, for its resubscribe to ask for.
   */
  private async sendSubscribe(
    asked: Array<[string, string | undefined]>,
    request: Requester,
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
            this.host.subscribed(subscribed, rooms.find((a) => a.roomId === subscribed.roomId)?.afterSeq);
            if (subscribed.hasMore) this.fetchPaced(subscribed.roomId);
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
    const afterSeq = this.host.resumeAfter(roomId);
    return { roomId, ...(key !== undefined && { key }), ...(afterSeq !== undefined && { afterSeq }) };
  }

  /**
   * Sends `subscribe` for `roomIds` and hands each answer to `took`. A frame answered BUSY or INTERNAL, or not answered
   * in time (TIMEOUT: a loaded stage, or the gateway's own error frame, which names no request), is sent again,
   * and so is one for the rooms an answer refused so, after a full-jitter wait (SUBSCRIBE_RETRY), each room after
   * what this client has of it by then; never a room refused for good (unknown, closed, not allowed), nor one left or
   * shown since. Resolves with the rooms refused for good and those still busy after the last attempt; `stopped`
   * when a (re)connect came during a wait. Rejects with the frame's error when it is not worth repeating or the
   * last attempt got it.
   */
  private async subscribeRetrying(
    roomIds: readonly string[],
    request: Requester,
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
        const retryable = error instanceof RoomcastError && REASK_CODES.has(error.code);
        if (!retryable || attempt >= SUBSCRIBE_RETRY.maxAttempts) throw error;
      }
      const delayMs = fullJitterDelay(SUBSCRIBE_RETRY, attempt - 1, this.host.random);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (generation !== this.generation) return { refused, stopped: true };
      waiting = waiting.filter((roomId) => this.following.has(roomId) && roomId !== this.host.shown());
      if (waiting.length === 0) return { refused, stopped: false };
    }
  }

  /** A subscribe no caller waits for failed for good: the client's `error` event (a closed socket is no failure). */
  report(error: unknown): void {
    if (error instanceof RoomcastError && error.code !== 'DISCONNECTED' && error.code !== 'CLOSED')
      this.host.error(error);
  }

  /** Rooms the server stayed busy for through every attempt, told as the `error` event (one for all of them). */
  reportStillBusy(refused: readonly SubscribeRefusal[]): void {
    const busy = refused.filter((r) => RETRY_CODES.has(r.code));
    const first = busy[0];
    if (first === undefined) return;
    const rooms = busy.map((r) => r.roomId).join(', ');
    this.host.error(
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
      rooms.filter((r) => r.hasMore !== true).map((r) => [r.roomId, this.host.lastSeqOf(r.roomId)]),
    );
    if (since.size === 0) return;
    const generation = this.generation;
    setTimeout(() => {
      if (generation !== this.generation) return;
      const again = [...since].filter(
        ([roomId, seq]) =>
          this.following.has(roomId) && roomId !== this.host.shown() && this.host.lastSeqOf(roomId) === seq,
      );
      if (again.length === 0) return;
      this.subscribeRetrying(
        again.map(([roomId]) => roomId),
        this.host.request,
        (answer) => {
          if (generation !== this.generation) return;
          for (const room of answer.rooms ?? []) {
            this.host.take(room.roomId, (room.events ?? []).filter(isRoomEvent));
            if (room.hasMore) this.fetchPaced(room.roomId);
          }
        },
      ).then(
        ({ refused }) => this.reportStillBusy(refused),
        (error: unknown) => this.report(error), // a closed socket: the next connect resubscribes from each last seq
      );
    }, INDEX_LAG_MS);
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
    if (this.following.has(roomId) && roomId !== this.host.shown()) {
      try {
        const lastSeq = this.host.lastSeqOf(roomId) ?? 0;
        const afterSeq = Math.min(lastSeq, this.fetchFrom.get(roomId) ?? lastSeq);
        this.fetchFrom.delete(roomId);
        const page = await this.host.history(roomId, { afterSeq, limit: LIMITS.historyMax });
        if (generation !== this.generation) return;
        this.host.take(roomId, page.messages);
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

  /** `client.rooms.resubscribe` after a reconnect: ONE `subscribe` for every room followed but the one on screen. */
  async resubscribe(): Promise<void> {
    this.epoch += 1;
    clearTimeout(this.fetchTimer);
    this.fetchTimer = undefined;
    this.toFetch.length = 0;
    this.fetchFrom.clear();
    const shown = this.host.shown();
    this.following.delete(LOBBY);
    if (shown !== LOBBY) this.following.set(shown, this.following.get(shown));
    const again = [...this.following].filter(([roomId]) => roomId !== shown);
    if (again.length === 0) return;
    const { refused } = await this.sendSubscribe(again, this.host.requestNow(), true);
    this.reportStillBusy(refused);
  }

  /** A followed room's history still to fetch, one page per HISTORY_PACE_MS. */
  private fetchPaced(roomId: string): void {
    if (this.toFetch.includes(roomId)) return;
    this.toFetch.push(roomId);
    this.fetchLater();
  }

  /** A followed room not on screen missed events after `afterSeq`: they are fetched, paced. */
  resync(roomId: string, afterSeq: number): void {
    if (roomId === this.host.shown() || !this.following.has(roomId)) return;
    if (Number.isSafeInteger(afterSeq) && afterSeq >= 0)
      this.fetchFrom.set(roomId, Math.min(this.fetchFrom.get(roomId) ?? afterSeq, afterSeq));
    if (!this.toFetch.includes(roomId)) this.toFetch.push(roomId);
    this.fetchLater();
  }
}
