import type { ReadFrame } from '../protocol';
import { LOBBY } from '../protocol';
import { RoomcastError } from './errors';
import type { Requester } from './requests';

/**
 * Read positions as `markRead` sends them (MemberRooms, members.ts): at most one round per `intervalMs`, one
 * `markread` per room marked since the last, each only a position higher than the last one sent for its room, so
 * reading a busy room costs a handful of requests, not one per message.
 */
export interface ReadHooks {
  request: Requester;
  /** The room on screen. */
  shown(): string;
  /** Whether the connection still follows `roomId`. */
  follows(roomId: string): boolean;
  /** A position the server took for `roomId` (its `read` frame). */
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
  private lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly hooks: ReadHooks,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** The highest position sent for `roomId`, or learned from another device (0: none). */
  sentFor(roomId: string): number {
    return this.sent.get(roomId) ?? 0;
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
   * frame once the position is sent (at most one round of requests per interval), or undefined when it is no higher
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
    const wait = this.lastSentAt + this.intervalMs - this.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
    return answer;
  }

  /** Sends the waiting positions now, one `markread` per room, each naming its room. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = [...this.pending];
    this.pending.clear();
    const shown = this.hooks.shown();
    for (const [roomId, { seq, waiting }] of pending) {
      // A position for a room left meanwhile is dropped, not sent to a room the connection no longer follows.
      if (roomId !== shown && !this.hooks.follows(roomId)) {
        for (const resolve of waiting) resolve(undefined);
        continue;
      }
      this.lastSentAt = this.now();
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
