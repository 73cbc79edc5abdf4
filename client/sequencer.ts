import type { RoomEventFrame } from '../protocol';
import type { Handed } from './types';

/**
 * The event as handed to the app: `late: true` when it is late, and no `late` field otherwise, whatever the frame
 * carried (only the client says what is late).
 */
export function marked<T extends RoomEventFrame>(event: T, late: boolean): Handed<T> {
  if (late) return { ...event, late: true };
  if (!('late' in event)) return event;
  const { late: _frameSaid, ...rest } = event as Handed<T>;
  return rest as T;
}

/**
 * Seqs of skipped holes remembered per room, the newest kept: a message stored after its hole was skipped (a
 * DynamoDB retry, a fan-out that posts it once it is stored) is handed over once, late, if its seq is among them.
 * Such a message is seconds late, so a few hundred seqs cover it; a hole of expired messages may be far longer and
 * is remembered by its top only, so memory stays bounded however long the room.
 */
export const SKIPPED_KEPT = 500;

/** Held in a seq's place for a seq given up (`pass`): counted as delivered, handed to no one. */
const GIVEN_UP = null;

/**
 * Hands a room's events (messages and changes to them) to the app once each, in seq order, whatever order and however often they arrive.
 * `lastSeq` is the highest seq delivered with nothing missing below it (from the baseline up); messages above a
 * hole wait in `held` until the hole is filled or skipped. A seq of a skipped hole that arrives afterwards is
 * delivered then, once, marked late (`deliver(event, true)`): the app puts it in its place by seq. A seq the server
 * says it gave up (`pass`: a frame's or a page's `gaps`) counts as delivered and is no hole.
 */
export class Sequencer {
  private last: number | undefined;
  /** Events above a hole by seq, and seqs given up there (GIVEN_UP). */
  private readonly held = new Map<number, RoomEventFrame | typeof GIVEN_UP>();
  /** When the hole below the held messages was first seen (epoch ms); undefined while there is none. */
  private holeSeen: number | undefined;
  /**
   * Seqs of skipped holes not delivered yet, at most SKIPPED_KEPT. Holes are skipped in rising order, so the Set's
   * insertion order is ascending and the first is the oldest, dropped first.
   */
  private readonly skipped = new Set<number>();

  constructor(
    private readonly deliver: (message: RoomEventFrame, late: boolean) => void,
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

  /** The lowest seq of a skipped hole not delivered since, if any is remembered. */
  get lowestSkipped(): number | undefined {
    return this.skipped.values().next().value;
  }

  /** The lowest seq of a skipped hole above `seq` not delivered since, if any is remembered. */
  skippedAfter(seq: number): number | undefined {
    for (const skipped of this.skipped) if (skipped > seq) return skipped;
    return undefined;
  }

  /** Starts counting after `lastSeq` (messages up to it count as delivered), then delivers what follows it. */
  setBaseline(lastSeq: number): void {
    this.last = lastSeq;
    for (const seq of [...this.held.keys()]) if (seq <= lastSeq) this.held.delete(seq);
    this.drain();
  }

  /**
   * Takes a message; returns false for one already delivered or held (a duplicate). A seq of a skipped hole is
   * delivered at once, late, and forgotten, so a copy of it is a duplicate too.
   */
  accept(message: RoomEventFrame): boolean {
    if (!Number.isSafeInteger(message.seq) || message.seq < 1) return false;
    if (this.last !== undefined && message.seq <= this.last) {
      if (!this.skipped.delete(message.seq)) return false;
      this.deliver(message, true);
      return true;
    }
    if (this.held.has(message.seq)) return false;
    this.held.set(message.seq, message);
    this.drain();
    return true;
  }

  /**
   * Seqs the server gave up (a frame's or a `history` page's `gaps`): nothing will ever be stored under them, so they
   * count as delivered, as if each came and was handed over: no hole waits for them, and a skipped one is not looked
   * for any more. A seq already delivered or held is left as it is.
   */
  pass(seqs: readonly unknown[]): void {
    for (const seq of seqs) {
      if (!Number.isSafeInteger(seq) || (seq as number) < 1) continue;
      const n = seq as number;
      if (this.last !== undefined && n <= this.last) this.skipped.delete(n);
      else if (!this.held.has(n)) this.held.set(n, GIVEN_UP);
    }
    this.drain();
  }

  /** Gives up on the hole below the lowest held message (the server does not have it yet) and delivers on. */
  skipHole(): void {
    if (this.held.size === 0 || this.last === undefined) return;
    const lowest = Math.min(...this.held.keys());
    for (let seq = Math.max(this.last + 1, lowest - SKIPPED_KEPT); seq < lowest; seq++) {
      this.skipped.add(seq);
      if (this.skipped.size > SKIPPED_KEPT) this.skipped.delete(this.lowestSkipped as number);
    }
    this.last = lowest - 1;
    this.drain();
  }

  reset(): void {
    this.last = undefined;
    this.held.clear();
    this.skipped.clear();
    this.holeSeen = undefined;
  }

  private drain(): void {
    if (this.last === undefined) return;
    for (let seq = this.last + 1; this.held.has(seq); seq++) {
      const next = this.held.get(seq);
      this.held.delete(seq);
      this.last = seq;
      // The hole below it is filled: a hole above starts its own wait.
      this.holeSeen = undefined;
      if (next) this.deliver(next, false);
    }
    if (this.held.size === 0) this.holeSeen = undefined;
    else this.holeSeen ??= this.now();
  }
}
