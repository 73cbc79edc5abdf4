import type { DmOpenedFrame, JoinedFrame, MyRoom, MyRoomsFrame, ReadFrame, SeenByFrame } from '../protocol';
import { isUserId, LOBBY } from '../protocol';
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
 */

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
   * Enters the direct-message room with another signed-in user, named by `userId` (from `seenBy` or `myRooms`) or
   * by `username` as the current room's member list shows it. Refused FORBIDDEN without sign-in.
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

  private withOwnReads(room: MyRoom): MyRoom {
    const read = Math.max(room.lastReadSeq, this.sent.get(room.roomId) ?? 0);
    return { ...room, lastReadSeq: read, unread: Math.max(0, room.lastSeq - read) };
  }
}
