import type {
  DmOpenedFrame,
  JoinedFrame,
  MyRoom,
  MyRoomsFrame,
  PeopleFrame,
  Person,
  ReadFrame,
  SeenByFrame,
} from '../protocol';
import { foldName, isUserId, LOBBY, PATTERNS, PEOPLE_LIMITS, UNREAD_MAX } from '../protocol';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import type { RoomcastClientOptions, StateChange } from './types';

/**
 * Read positions, "my rooms" and direct messages (docs/CLIENT.md, "Unread counts, direct messages, edits").
 *
 * ```ts
 * const client = createRoomcastClient({ url, getToken, trackRooms: true });
 * client.rooms.on('rooms', (rooms) => render(rooms.map((r) => `${r.roomId}: ${r.unread}`)));
 * client.on('message', (m) => client.rooms.markRead(m.seq)); // coalesced: one markread per interval at most
 * const dm = await client.rooms.openDirect({ userId });       // the pair's one room; the client is in it now
 * ```
 *
 * `markRead` never sends more than one `markread` per `readIntervalMs` (default 5 s) and only a position higher than
 * the last one sent for the room, so reading a busy room costs a handful of requests, not one per message. After
 * every (re)connect a client made with `trackRooms` asks `myrooms` once and emits `rooms`: the unread count of each
 * of its rooms, including direct messages opened by someone else while it was away.
 *
 * Between two `myrooms` answers each listed room's count follows the frames the connection gets, counted as the
 * server counts: a message after the read position raises it by one, unless this client sent it (its ack names the
 * seq: a message is recognised by identity, never by display name); edits, deletes and reactions do not, and a
 * message deleted before it was read no longer counts.
 */

/** A room's count as the frames since the last `myrooms` answer left it (RoomCount.unread says how it is read). */
interface RoomCount {
  /** The answer's count, of the messages up to `baseSeq` after its read position. */
  base: number;
  baseSeq: number;
  baseMore: boolean;
  /** Seqs after `baseSeq` of messages not sent by this client, not deleted. */
  others: Set<number>;
  /** Seqs this client's messages took (from their acks). */
  own: Set<number>;
  lastSeq: number;
}

/** What a findPeople prefix may hold: characters of a name (docs/PROTOCOL.md, "Limits and errors"). */
const NAME_CHARS = new RegExp(`^(?:${PATTERNS.usernameChar})+$`, 'u');

/** Seqs kept per room for counting: past this the oldest go (the count shows "99+" long before). */
const SEQS_KEPT = 1000;

function keep(set: Set<number>, seq: number): void {
  set.add(seq);
  if (set.size > SEQS_KEPT) set.delete(Math.min(...set));
}

export interface MemberHooks {
  /** Sends a request once the client is ready, again after a reconnect that lost the answer. */
  request(frame: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Sends a join-like request through the room session (answered `joined`). */
  join(frame: Record<string, unknown>): Promise<JoinedFrame>;
  /** Moves the session into the room a `joined` reply names. */
  entered(joined: JoinedFrame): void;
  roomId(): string;
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

export class MemberRooms extends Emitter<MemberEvents> {
  private rooms: MyRoom[] = [];
  private hasMore = false;
  /** Per room: the highest position sent, and the one waiting for the interval to pass. */
  private sent = new Map<string, number>();
  private pending: { roomId: string; seq: number } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private waiting: Array<(frame: ReadFrame | undefined) => void> = [];
  /** Per room: what the frames since the last `myrooms` answer add to its count. */
  private counts = new Map<string, RoomCount>();

  private readonly readIntervalMs: number;

  constructor(
    client: {
      on(event: 'state', listener: (change: StateChange) => void): unknown;
      on(event: 'frame', listener: (frame: { frame?: Record<string, unknown> }) => void): unknown;
    },
    options: Pick<RoomcastClientOptions, 'trackRooms' | 'readIntervalMs'>,
    private readonly hooks: MemberHooks,
    private readonly now: () => number = Date.now,
  ) {
    super();
    // 12 a minute at most: well within FrameRateLimit's room beside the sends SendRateLimit allows.
    this.readIntervalMs = options.readIntervalMs ?? 5000;
    client.on('frame', ({ frame }) => {
      if (frame?.type === 'dmopened') this.onDmOpened((frame as unknown as DmOpenedFrame).room);
      else if (frame && this.counted(frame)) this.recount();
    });
    // Each (re)connect asks once: a failure is left to the next connect (the list is advisory).
    if (options.trackRooms)
      client.on('state', ({ state }) => {
        if (state === 'ready') this.myRooms().catch(() => undefined);
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

  /** Asks for the member's rooms and their unread counts; also emits `rooms`. */
  async myRooms(): Promise<MyRoom[]> {
    const frame = (await this.hooks.request({ action: 'myrooms' })) as unknown as MyRoomsFrame;
    for (const room of frame.rooms) this.rebase(room);
    this.rooms = frame.rooms.map((r) => this.withOwnReads(r));
    this.hasMore = frame.more === true;
    this.emit('rooms', this.rooms);
    return this.rooms;
  }

  /**
   * Marks the current room read up to `seq`. Coalesced: resolves with the server's `read` frame once the position
   * is sent (at most one request per interval), or undefined when it is no higher than one already sent.
   */
  markRead(seq: number): Promise<ReadFrame | undefined> {
    if (!Number.isSafeInteger(seq) || seq < 0)
      return Promise.reject(
        new RoomcastError('INVALID_ARGUMENT', `seq must be a whole number ≥ 0, got ${seq}.`),
      );
    const roomId = this.hooks.roomId();
    if (roomId === LOBBY) return Promise.resolve(undefined);
    if (seq <= (this.sent.get(roomId) ?? -1) && this.pending?.roomId !== roomId)
      return Promise.resolve(undefined);
    // A position still waiting for a room the client has left is dropped (markread acts on the current room).
    if (this.pending && this.pending.roomId !== roomId) this.flush();
    if (!this.pending || seq > this.pending.seq) this.pending = { roomId, seq };
    const answer = new Promise<ReadFrame | undefined>((resolve) => this.waiting.push(resolve));
    const wait = this.lastSentAt + this.readIntervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
    return answer;
  }

  /** Each member of the current room with its read position (rooms up to the deployment's size for it). */
  seenBy = async (): Promise<SeenByFrame> =>
    (await this.hooks.request({ action: 'seenby' })) as unknown as SeenByFrame;

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
    const frame = (await this.hooks.request({
      action: 'findpeople',
      prefix: folded,
      ...(limit !== undefined && { limit }),
    })) as unknown as PeopleFrame;
    return frame.people;
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
    this.rebase(room);
    this.rooms = [this.withOwnReads(room), ...this.rooms.filter((r) => r.roomId !== room.roomId)];
    this.emit('dm', room);
    this.emit('rooms', this.rooms);
  }

  /** Sends the waiting position now. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    const waiting = this.waiting.splice(0);
    this.pending = undefined;
    // markread acts on the connection's room: a position for a room left meanwhile is dropped, not misapplied.
    if (!pending || pending.roomId !== this.hooks.roomId()) {
      for (const resolve of waiting) resolve(undefined);
      return;
    }
    this.lastSentAt = this.now();
    this.sent.set(pending.roomId, Math.max(pending.seq, this.sent.get(pending.roomId) ?? 0));
    this.hooks.request({ action: 'markread', seq: pending.seq }).then(
      (frame) => {
        const read = frame as unknown as ReadFrame;
        this.sent.set(read.roomId, Math.max(read.lastReadSeq, this.sent.get(read.roomId) ?? 0));
        this.rooms = this.rooms.map((r) => this.withOwnReads(r));
        for (const resolve of waiting) resolve(read);
      },
      // A read position is advisory: a failed one is sent again with the next, never thrown at the reader.
      () => {
        this.sent.delete(pending.roomId);
        for (const resolve of waiting) resolve(undefined);
      },
    );
  }

  /** A `myrooms` answer (or `dmopened`) is the new base of the room's count: frames up to its seq are in it. */
  private rebase(room: MyRoom): void {
    const count = this.countOf(room.roomId);
    count.base = room.unread;
    count.baseSeq = room.lastSeq;
    count.baseMore = room.unreadMore === true;
    for (const seq of count.others) if (seq <= room.lastSeq) count.others.delete(seq);
    count.lastSeq = Math.max(count.lastSeq, room.lastSeq);
  }

  private countOf(roomId: string): RoomCount {
    let count = this.counts.get(roomId);
    if (!count) {
      count = { base: 0, baseSeq: 0, baseMore: false, others: new Set(), own: new Set(), lastSeq: 0 };
      this.counts.set(roomId, count);
    }
    return count;
  }

  /** Takes what a frame changes in a room's count; true when it may have changed a listed room. */
  private counted(frame: Record<string, unknown>): boolean {
    const roomId = frame.roomId;
    if (typeof roomId !== 'string' || roomId === LOBBY) return false;
    const events =
      frame.type === 'batch' && Array.isArray(frame.messages)
        ? (frame.messages as Record<string, unknown>[])
        : [frame];
    let changed = false;
    for (const event of events) {
      // Any frame reaches here before the client checks it (client/validate.ts): a malformed one counts for nothing.
      const seq = typeof event === 'object' && event !== null ? event.seq : undefined;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) continue;
      const count = this.countOf(roomId);
      switch (event.type) {
        case 'ack':
          // This client's own message: never unread here, whether its frame came before the ack or comes after.
          keep(count.own, seq);
          count.others.delete(seq);
          break;
        case 'message':
          if (seq > count.baseSeq && !count.own.has(seq) && event.deleted === undefined)
            keep(count.others, seq);
          break;
        case 'deleted':
          if (typeof event.targetSeq === 'number') count.others.delete(event.targetSeq);
          break;
        case 'edited':
        case 'reaction':
          break;
        default:
          continue;
      }
      if (event.type !== 'ack') count.lastSeq = Math.max(count.lastSeq, seq);
      changed = true;
    }
    return changed && this.rooms.some((r) => r.roomId === roomId);
  }

  /** Emits `rooms` again when a frame changed a listed room's count or latest seq. */
  private recount(): void {
    const before = this.rooms;
    this.rooms = this.rooms.map((r) => this.withOwnReads(r));
    if (this.rooms.some((r, i) => r.unread !== before[i]?.unread || r.lastSeq !== before[i]?.lastSeq))
      this.emit('rooms', this.rooms);
  }

  /**
   * The room with the client's own reads and the frames since the answer applied. The answer's count stays exact
   * while the read position is the answer's; a read part-way into it leaves at most what remains after that position.
   */
  private withOwnReads(room: MyRoom): MyRoom {
    const read = Math.max(room.lastReadSeq, this.sent.get(room.roomId) ?? 0);
    const count = this.counts.get(room.roomId);
    if (!count) return { ...room, lastReadSeq: read };
    for (const seq of count.others) if (seq <= read) count.others.delete(seq);
    for (const seq of count.own) if (seq <= read) count.own.delete(seq);
    const fromAnswer = read >= count.baseSeq ? 0 : Math.min(count.base, count.baseSeq - read);
    const total = fromAnswer + count.others.size;
    const { unreadMore: _more, ...rest } = room;
    const more = total > UNREAD_MAX || (count.baseMore && read < count.baseSeq);
    return {
      ...rest,
      lastSeq: Math.max(room.lastSeq, count.lastSeq),
      lastReadSeq: read,
      unread: Math.min(total, UNREAD_MAX),
      ...(more && { unreadMore: true as const }),
    };
  }
}
