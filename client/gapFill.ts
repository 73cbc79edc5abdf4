import type { HistoryFrame } from '../protocol';
import { LIMITS, LOBBY } from '../protocol';
import type { Sequencer } from './sequencer';
import type { SessionActivity } from './sessionTypes';
import { gapsOf } from './validate';

/**
 * How long a hole that history does not fill is waited for before the messages above it are delivered: a seq is taken
 * before its message is stored, and may be stored a moment after a later one (docs/PROTOCOL.md, "Ordering, gaps and
 * retries").
 */
export const HOLE_WAIT_MS = 2_000;

/**
 * How long a new subscription may take to show in the room index the fan-out reads (`RoomSubscribers`, a GSI, so
 * eventually consistent): a message fanned out in that window is not posted to the member who just joined. In a
 * room that goes on talking the next message reveals the hole; a quiet room has no next, so a room that brought
 * nothing since the join is asked once, this long after it, for what came after (docs/CLIENT.md, "Guarantees").
 */
export const INDEX_LAG_MS = 2_000;

/** What the gap fill reads of the room session (client/session.ts) and moves. */
export interface FillHooks {
  /** The room on screen. */
  room(): string;
  history(query: { afterSeq?: number; limit?: number }): Promise<HistoryFrame>;
  /** The session's activity: a fill runs only while it is steady, and makes it `filling` meanwhile. */
  activity(): SessionActivity;
  setActivity(activity: SessionActivity): void;
}

/**
 * The room on screen's seqs reach the app without holes: a gap the sequencer finds is filled from `history`, one fill
 * at a time and none while a join brings the room's state; a hole history does not have is waited for HOLE_WAIT_MS,
 * read once more, then skipped; a `resync` makes the next fill read from below the last seq delivered; and a quiet
 * room is asked once, INDEX_LAG_MS after it was entered, for what the fan-out may have missed (docs/CLIENT.md).
 */
export class GapFill {
  /** A fill was asked for while one ran (a new gap, a resync): the running fill goes round once more. */
  private refill = false;
  /**
   * The lowest `afterSeq` of the resyncs since the last fill: a message stored after its hole was skipped sits below
   * the last seq delivered, so the next fill reads from there when a skipped seq lies above it.
   */
  private resyncFrom: number | undefined;
  /** A fill set to run once a hole history did not have has waited HOLE_WAIT_MS. */
  private holeTimer: ReturnType<typeof setTimeout> | undefined;
  private lagTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly sequencer: Sequencer,
    private readonly hooks: FillHooks,
    private readonly lean: boolean,
  ) {}

  /** A room entered afresh: no resync of the one before counts. */
  reset(): void {
    this.resyncFrom = undefined;
  }

  /** A `resync` of the room on screen: the next fill reads from `afterSeq` when a skipped seq lies above it. */
  resynced(afterSeq: number): void {
    if (!this.lean && Number.isSafeInteger(afterSeq))
      this.resyncFrom = Math.min(this.resyncFrom ?? afterSeq, afterSeq);
  }

  /** Fetches everything of `roomId` after the last seq delivered, if it is the room on screen (not in lean mode). */
  missing(roomId: string): void {
    if (roomId === this.hooks.room() && !this.lean) void this.fill();
  }

  /** INDEX_LAG_MS after entering a room: if nothing came since, one `history` after the last seq (a quiet room). */
  afterLag(): void {
    if (this.lean || this.hooks.room() === LOBBY) return;
    clearTimeout(this.lagTimer);
    const room = this.hooks.room();
    const seq = this.sequencer.lastSeq;
    this.lagTimer = setTimeout(() => {
      this.lagTimer = undefined;
      if (room === this.hooks.room() && this.sequencer.lastSeq === seq) void this.fill();
    }, INDEX_LAG_MS);
  }

  /**
   * Pages through `history` after the last seq until the server says no more follow (`hasMore`; a reply holds only
   * what fits 128 KB, so a short page alone does not mean caught up). A server without `hasMore`: a short page.
   */
  async catchUp(): Promise<void> {
    const room = this.hooks.room();
    let afterSeq = this.sequencer.lastSeq ?? 0;
    // A resync may name seqs below the last delivered: a skipped one among them may be stored by now (late).
    const late = this.resyncFrom === undefined ? undefined : this.sequencer.skippedAfter(this.resyncFrom);
    this.resyncFrom = undefined;
    if (late !== undefined) afterSeq = Math.min(afterSeq, late - 1);
    for (;;) {
      const page = await this.hooks.history({ afterSeq, limit: LIMITS.historyMax });
      if (room !== this.hooks.room()) return;
      this.sequencer.pass(gapsOf(page));
      for (const message of page.messages) this.sequencer.accept(message);
      const more = page.hasMore ?? page.messages.length >= LIMITS.historyMax;
      // The next page starts after this one's last seq (which moves on even past a hole: expired messages), or
      // after the last seq delivered when messages held above it already reach further, unless a skipped seq
      // below that is still to be read.
      const last = page.messages.at(-1)?.seq;
      if (!more || last === undefined || last <= afterSeq) break;
      const delivered = this.sequencer.lastSeq ?? 0;
      const skipped = late === undefined ? undefined : this.sequencer.skippedAfter(last);
      afterSeq = skipped !== undefined && skipped < delivered ? last : Math.max(last, delivered);
    }
    // What is still held above a hole that history does not have: a seq taken and never stored (a gap), expired,
    // or still being stored (a seq is taken before its message is put). It waits HOLE_WAIT_MS from when it was first
    // seen, history is read once more, then the hole is skipped: a gap is passed, never asked for without end.
    // Unless a new gap or a resync came while the last page was on its way: then the fill goes round again first.
    if (!this.sequencer.hasGap || this.refill) return;
    const waited = this.sequencer.holeAgeMs;
    if (waited >= HOLE_WAIT_MS) this.sequencer.skipHole();
    else
      this.holeTimer ??= setTimeout(() => {
        this.holeTimer = undefined;
        if (room === this.hooks.room()) this.missing(room);
      }, HOLE_WAIT_MS - waited);
  }

  /**
   * Fills a gap in the background, one fill at a time (a fill asked for meanwhile makes it go round once more), and
   * none while a join will bring the room's state anyway.
   */
  async fill(): Promise<void> {
    if (this.hooks.activity().kind === 'filling') {
      this.refill = true;
      return;
    }
    if (this.hooks.activity().kind !== 'steady') return;
    const filling: SessionActivity = { kind: 'filling' };
    this.hooks.setActivity(filling);
    try {
      do {
        this.refill = false;
        await this.catchUp();
      } while (this.refill && this.hooks.activity() === filling);
    } catch {
      // The socket closed or the server did not answer: the resume after the reconnect fills the gap.
    } finally {
      if (this.hooks.activity() === filling) {
        this.hooks.setActivity({ kind: 'steady' });
        this.refill = false;
      }
    }
  }
}
