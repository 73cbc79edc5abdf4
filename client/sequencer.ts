import type { RoomEventFrame } from '../protocol';

/**
 * Hands a room's events (messages and changes to them) to the app once each, in seq order, whatever order and however often they arrive.
 * `lastSeq` is the highest seq delivered with nothing missing below it (from the baseline up); messages above a
 * hole wait in `held` until the hole is filled or skipped.
 */
export class Sequencer {
  private last: number | undefined;
  private readonly held = new Map<number, RoomEventFrame>();
  /** When the hole below the held messages was first seen (epoch ms); undefined while there is none. */
  private holeSeen: number | undefined;

  constructor(
    private readonly deliver: (message: RoomEventFrame) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long the current hole has been open (0 when there is none). */
  get holeAgeMs(): number {
    return this.holeSeen === undefined ? 0 : this.now() - this.holeSeen;
  }

  /** Highest seq delivered without a gap; undefined before the baseline is known. */
  get lastSeq(): number | undefined {
    return this.last;
  }

  /** True while messages wait above a hole. */
  get hasGap(): boolean {
    return this.held.size > 0 && this.last !== undefined;
  }

  /** The highest seq seen, delivered or held. */
  get highestSeen(): number | undefined {
    let max = this.last;
    for (const seq of this.held.keys()) max = max === undefined ? seq : Math.max(max, seq);
    return max;
  }

  /** Starts counting after `lastSeq` (messages up to it count as delivered), then delivers what follows it. */
  setBaseline(lastSeq: number): void {
    this.last = lastSeq;
    for (const seq of [...this.held.keys()]) if (seq <= lastSeq) this.held.delete(seq);
    this.drain();
  }

  /** Takes a message; returns false for one already delivered or held (a duplicate). */
  accept(message: RoomEventFrame): boolean {
    if (!Number.isSafeInteger(message.seq) || message.seq < 1) return false;
    if ((this.last !== undefined && message.seq <= this.last) || this.held.has(message.seq)) return false;
    this.held.set(message.seq, message);
    this.drain();
    return true;
  }

  /** Gives up on the hole below the lowest held message (the server no longer has it) and delivers on. */
  skipHole(): void {
    if (this.held.size === 0) return;
    this.last = Math.min(...this.held.keys()) - 1;
    this.drain();
  }

  reset(): void {
    this.last = undefined;
    this.held.clear();
    this.holeSeen = undefined;
  }

  private drain(): void {
    if (this.last === undefined) return;
    for (let next = this.held.get(this.last + 1); next !== undefined; next = this.held.get(this.last + 1)) {
      this.held.delete(next.seq);
      this.last = next.seq;
      // The hole below it is filled: a hole above starts its own wait.
      this.holeSeen = undefined;
      this.deliver(next);
    }
    if (this.held.size === 0) this.holeSeen = undefined;
    else this.holeSeen ??= this.now();
  }
}
