import type { Notifier } from '#core/ports';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { type Frame, resyncFrame } from './coalescing';
import { type PostingDeadline, postFrames } from './delivery';
import type { DynamoFanoutStore } from './dynamoFanout';

/**
 * A member a post could not reach learns that it missed frames of the room's messages, and reads them from history:
 * its `resync` frame is tried again now a few times (tryResync), and a member none of those tries reach is noted
 * (noteResync), the note's frame going first in its next post in the room (targetsOf in post.ts, clearNote once it
 * went). The notes never fail a chunk: one not read, written or cleared is logged, and the member still finds its gap
 * from the next message's seq (docs/CLIENT.md).
 */

/** What telling a member to resync uses of Deliver's post (post.ts PostDeps). */
interface ResyncDeps {
  store: Pick<DynamoFanoutStore, 'markResync' | 'resyncNotes' | 'clearResync'>;
  notifier: Notifier;
  now: () => number;
  /** Waits between the resync frame's tries (a test's own clock); real time by default. */
  pause?: (ms: number) => Promise<void>;
}

/**
 * The pauses before each try of a resync frame to a member the repost could not reach (429/5xx): about 4 s in all,
 * growing, so a member of a throttled stage is told within ~6 s of the first post (the repost comes after 2 s),
 * while a stage throttled for good is not hammered: ten small posts per unreached member at most.
 * Exported for tests: the pauses resyncNow.test.ts expects.
 */
export const RESYNC_PAUSES_MS = [200, 200, 300, 300, 400, 400, 500, 500, 600, 600];
/**
 * The tries of one round in the repost machine: a tenth of a second of one invocation.
 * Exported for tests: the pauses resyncNow.test.ts expects.
 */
export const RESYNC_ROUND_PAUSES_MS = [0, 100];
/**
 * The repost machine's waits, in seconds, before each round of resync tries after the repost's own (round 0), growing
 * (statemachines/repost.asl.json WaitToResync): with RESYNC_ROUND_PAUSES_MS, 16 tries over about a minute. A member
 * that the repost and all of them miss is only noted, and learns at the room's next post, which a quiet room may not
 * have: at a stage answering half its posts 429 that is 1 member in 2^16 (8 tries would leave 1 in 256). Most
 * members are told by the first rounds (~6 s); a stage throttled for good gets at most 16 small posts per unreached
 * member. The machine's 120 s timeout holds the sum (61 s) with room for the invocations.
 */
export const RESYNC_ROUND_WAITS_S = [1, 1, 2, 4, 8, 15, 30];
/** Rounds of resync tries the repost machine runs: the repost's own and one after each wait. */
export const RESYNC_ROUNDS = RESYNC_ROUND_WAITS_S.length + 1;

/**
 * Posts a `resync` frame alone to each owed member, trying again after each of `pauses` while some are left (and
 * Deliver's deadline allows): the members reached (who now fetch what they missed from history), those left, and
 * those found gone.
 */
export async function tryResync(
  given: ResyncDeps,
  roomId: string | null,
  owedSeqs: Map<string, number>,
  pauses: readonly number[],
  deadline?: PostingDeadline,
): Promise<{ told: Set<string>; left: Map<string, number>; gone: string[] }> {
  const told = new Set<string>();
  const gone: string[] = [];
  if (roomId === null || owedSeqs.size === 0) return { told, left: new Map(), gone };
  let owed = [...owedSeqs].map(([connectionId, afterSeq]) => ({
    connectionId,
    afterSeq,
    frames: [resyncFrame(roomId, afterSeq)],
  }));
  const pause = given.pause ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (const ms of pauses) {
    if (owed.length === 0) break;
    if (deadline !== undefined && given.now() + ms >= deadline.stopAt) break;
    if (ms > 0) await pause(ms);
    const results = await postFrames(given.notifier, owed, deadline);
    for (const [i, r] of results.entries()) {
      if (r.outcome === 'delivered') told.add(r.connectionId);
      if (r.outcome === 'gone') gone.push((owed[i] as { connectionId: string }).connectionId);
    }
    owed = owed.filter((_, i) => results[i]?.outcome === 'retry');
  }
  if (told.size > 0) metrics.addMetric(METRIC.resyncsTold, MetricUnit.Count, told.size);
  return { told, left: new Map(owed.map((o) => [o.connectionId, o.afterSeq])), gone };
}

/**
 * Notes a member that misses a frame of the room's messages: it resyncs after the seq before that frame's first.
 * A member that misses only frames that are no message (presence, a room's broadcast) or an everyone-broadcast is
 * not noted: they are state, which the client reads again on reconnecting, not history.
 */
export async function noteResync(
  given: ResyncDeps,
  input: { roomId: string | null; frames: Frame[] },
  connectionId: string,
  has: number,
): Promise<boolean> {
  const missed = input.frames.slice(has).find((f) => f.messages > 0 && f.firstSeq !== undefined);
  if (input.roomId === null || missed === undefined) return false;
  return noteAt(given, input.roomId, connectionId, (missed.firstSeq as number) - 1);
}

/** The note itself: the member resyncs after `afterSeq`; false when it could not be written. */
export async function noteAt(
  given: ResyncDeps,
  roomId: string,
  connectionId: string,
  afterSeq: number,
): Promise<boolean> {
  try {
    await given.store.markResync(roomId, connectionId, afterSeq);
    metrics.addMetric(METRIC.resyncsOwed, MetricUnit.Count, 1);
    return true;
  } catch (error) {
    // The member still finds the gap from the next message's seq and fills it from history (docs/CLIENT.md).
    logger.warn('resync note not written', { roomId, connectionId, error });
    return false;
  }
}

/**
 * The room's resync notes, or none when they cannot be read (after the store's retries): the chunk is posted without
 * resync frames, and each note stays for the member's next post, which tells it; meanwhile the member finds its gap
 * from this post's seq and fills it from history (docs/CLIENT.md). Throwing instead would fail the execution after
 * the room's other chunks were posted, and the queue would hand the batch out again: every member posted twice.
 */
export async function notesOrNone(given: ResyncDeps, roomId: string): Promise<Record<string, number>> {
  try {
    return await given.store.resyncNotes(roomId);
  } catch (error) {
    logger.warn('resync notes not read: the chunk is posted without them', { roomId, error });
    return {};
  }
}

export async function clearNote(
  given: ResyncDeps,
  roomId: string,
  target: { connectionId: string; resyncAfter?: number },
): Promise<void> {
  try {
    await given.store.clearResync(roomId, target.connectionId, target.resyncAfter as number);
  } catch (error) {
    // Left in place, the note sends one more resync frame with the member's next post: harmless.
    logger.warn('resync note not cleared', { roomId, connectionId: target.connectionId, error });
  }
}
