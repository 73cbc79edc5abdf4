import type { ReadFrame } from '../protocol';
import { LOBBY, readIntervalFor } from '../protocol';
import { RoomcastError } from './errors';
import type { Requester } from './requests';

/**
 * Read positions as `markRead` sends them (MemberRooms, members.ts): for each room at most one `markread` per its
 * interval (`intervalMs`, longer in a big room: protocol readIntervalFor), each only a position higher than the last
 * one sent for its room, so reading a busy room costs a handful of requests, not one per message, and a room's
 * members together stay within their share of the stage's one `markread` bucket.
 */
export interface ReadHooks {
  request: Requester;
  /** The room on screen. */
  shown(): string;
  /** Whether the connection still follows `roomId`. */
  follows(roomId: string): boolean;
  /** A position the server took for `roomId` (its `read` frame), or one waiting to be sent: the room's count moves. */
  read(roomId: string): void;
}

export class ReadPositions {
  /** Per room: the highest position sent, and the one waiting for the interval to pass. */
  private readonly sent = new Map<string, number>();
  private readonly pending = new Map<
    string,
    { seq: number; waiting: Array<(frame: ReadFrame | undefined) => void> }
  >();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (epoch ms by `now`). */
  private timerAt = Number.POSITIVE_INFINITY;
  /** Per room: when its last position was sent. */
  private readonly lastSentAt = new Map<string, number>();
  /** Per room: its members when last heard of (`joined`, `members`, `subscribed`), which pace its marks. */
  private readonly sizes = new Map<string, number>();

  constructor(
    private readonly hooks: ReadHooks,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * The highest position read here for `roomId`: sent, waiting for its room's interval, or learned from another device
   * (0: none). The room's count on this device follows it at once, whatever the interval.
   */
  sentFor(roomId: string): number {
    return Math.max(this.sent.get(roomId) ?? 0, this.pending.get(roomId)?.seq ?? 0);
  }

  /**
   * A position the server keeps for `roomId` that another device of this person moved (a pushed `read` frame):
   * nothing at or below it is sent again, and the room's count reads from it (MyRooms.withOwnReads).
   */
  learned(roomId: string, seq: number): void {
    this.sent.set(roomId, Math.max(seq, this.sent.get(roomId) ?? 0));
  }

  /**
   * Marks `roomId` read up to `seq`. Coalesced: resolves with the server's `read`
   * frame once the position is sent (at most one per room per its interval), or undefined when it is no higher
   * than one already sent, or the room is no longer followed when the interval ends.
   */
  mark(seq: number, roomId: string): Promise<ReadFrame | undefined> {
    if (!Number.isSafeInteger(seq) || seq < 0)
      return Promise.reject(
        new RoomcastError('INVALID_ARGUMENT', `seq must be a whole number ≥ 0, got ${seq}.`),
      );
    if (roomId === LOBBY) return Promise.resolve(undefined);
    const waiting = this.pending.get(roomId);
    if (seq <= (this.sent.get(roomId) ?? -1) && !waiting) return Promise.resolve(undefined);
    const entry = waiting ?? { seq, waiting: [] };
    entry.seq = Math.max(entry.seq, seq);
    this.pending.set(roomId, entry);
    const answer = new Promise<ReadFrame | undefined>((resolve) => entry.waiting.push(resolve));
    this.flush();
    // Waiting for its room's interval, the position already counts here.
    if (this.pending.has(roomId)) this.hooks.read(roomId);
    return answer;
  }

  /** A frame that tells a room's size (`joined`, `members`, a newly followed room of `subscribed`): kept for pacing. */
  heard(frame: Record<string, unknown>): void {
    const rooms =
      frame.type === 'joined' || frame.type === 'members'
        ? [frame]
        : frame.type === 'subscribed' && Array.isArray(frame.rooms)
          ? (frame.rooms as Array<Record<string, unknown>>)
          : [];
    for (const { roomId, memberCount } of rooms)
      if (typeof roomId === 'string' && typeof memberCount === 'number') this.sizes.set(roomId, memberCount);
  }

  /** When `roomId`'s next position may be sent: its last send and its interval by the room's size. */
  private dueAt(roomId: string): number {
    const last = this.lastSentAt.get(roomId) ?? Number.NEGATIVE_INFINITY;
    return last + readIntervalFor(this.sizes.get(roomId), this.intervalMs);
  }

  /** Sends the waiting positions whose rooms are due, one `markread` per room; the timer waits for the next due. */
  private flush(): void {
    const now = this.now();
    const due: Array<[string, { seq: number; waiting: Array<(frame: ReadFrame | undefined) => void> }]> = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [roomId, entry] of this.pending) {
      const at = this.dueAt(roomId);
      if (at <= now) due.push([roomId, entry]);
      else next = Math.min(next, at);
    }
    for (const [roomId] of due) this.pending.delete(roomId);
    if (next < this.timerAt) {
      clearTimeout(this.timer);
      this.timerAt = next;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.flush();
      }, next - now);
    }
    const shown = this.hooks.shown();
    for (const [roomId, { seq, waiting }] of due) {
      // A position for a room left meanwhile is dropped, not sent to a room the connection no longer follows.
      if (roomId !== shown && !this.hooks.follows(roomId)) {
        for (const resolve of waiting) resolve(undefined);
        continue;
      }
      this.lastSentAt.set(roomId, now);
      this.sent.set(roomId, Math.max(seq, this.sent.get(roomId) ?? 0));
      this.hooks.request({ action: 'markread', roomId, seq }).then(
        (frame) => {
          const read = frame as unknown as ReadFrame;
          this.sent.set(read.roomId, Math.max(read.lastReadSeq, this.sent.get(read.roomId) ?? 0));
          this.hooks.read(read.roomId);
          for (const resolve of waiting) resolve(read);
        },
        // A read position is advisory: a failed one is sent again with the next, never thrown at the reader.
        () => {
          this.sent.delete(roomId);
          for (const resolve of waiting) resolve(undefined);
        },
      );
    }
  }
}
