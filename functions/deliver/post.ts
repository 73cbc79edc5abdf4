import { randomUUID } from 'node:crypto';
import type { EventPublisher, Notifier } from '#core/ports';
import { eachAtMost } from '#platform/eachAtMost';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { reserve, reserveNow } from './budget';
import { type Frame, resyncFrame } from './coalescing';
import { type FramesOutcome, type PostingDeadline, postFrames } from './delivery';
import type { DynamoFanoutStore } from './dynamoFanout';
import { BROADCAST_BUDGET_CEILING } from './postBudget';
import {
  clearNote,
  noteAt,
  noteResync,
  notesOrNone,
  RESYNC_PAUSES_MS,
  RESYNC_ROUND_PAUSES_MS,
  RESYNC_ROUND_WAITS_S,
  RESYNC_ROUNDS,
  tryResync,
} from './resyncs';

/**
 * Deliver's post: one chunk of a room's members (a Map iteration of statemachines/fanout.asl.json) gets the frames
 * Prepare built, in order, each member once.
 *
 * 1. The chunk's posts are reserved in the account-wide posting budget (FanoutPostsPerSecond, budget.ts).
 * 2. A member with a resync note (a post of an earlier execution failed for good) gets its resync frame first.
 * 3. Each member's frames are posted; what the management API answered sorts the members:
 *    - 410 Gone: returned in `goneIds`, which the state machine deletes;
 *    - 429/5xx, or not started in time: on the first attempt posted again once, after a pause, with the frames each
 *      still lacks: a room's chunk (`repostBy: bus`) hands them to the repost machine through the chat bus (a
 *      `Repost` event: statemachines/repost.asl.json), so the fan-out's execution and the other rooms of its batch do
 *      not wait for them; otherwise (or when the publish fails) they are returned in `retry`, which the state machine
 *      posts again after a Wait. On that second attempt they are noted for a resync instead;
 *    - refused for good, or caught in flight (it may yet arrive, so it is never posted twice): noted for a resync.
 * 4. A member still answered 429/5xx on the repost is told at once to fetch what it missed from history: its `resync`
 *    frame alone is posted again a few times (RESYNC_PAUSES_MS). In the repost machine (`rounds`) the tries are
 *    short (RESYNC_ROUND_PAUSES_MS) and the machine runs RESYNC_ROUNDS of them, waits growing from a second to half a
 *    minute between them (RESYNC_ROUND_WAITS_S), so no invocation sits
 *    waiting; elsewhere they run in this invocation. Only a member none of them reach is noted for a resync, which
 *    its next post in the room tells it. So a member refused twice learns within seconds, in a quiet room too.
 *
 * Telling a member it missed frames (the resync frame's tries and the notes) is resyncs.ts's.
 *
 * A failed post never fails the execution: only Deliver itself failing (past the state machine's retries) does, and
 * then the fan-out queue delivers the batch again.
 */

/** The state machine's input for a chunk (ItemSelector of PostChunks), or for its one repost (RepostChunk). */
export interface PostInput {
  op: 'post';
  /** Null for a broadcast to every connection. */
  roomId: string | null;
  frames: Frame[];
  /** The chunk's members (first attempt). */
  connectionIds?: string[];
  /** The second attempt: each member still owed, with how many of the frames it already has. */
  retry?: Record<string, number>;
  /** Members found gone by the first attempt, carried to the prune after the second. */
  goneIds?: string[];
  /** `bus`: a first attempt hands its throttled members to the repost machine through the chat bus. */
  repostBy?: 'bus';
  /**
   * The repost machine's round of resync tries (0: the repost itself): members a round's tries do not reach are
   * returned in `resync` for the next round, until the last, which notes them.
   */
  rounds?: number;
  /** A round of resync tries alone: each member and the seq its resync frame names. */
  resync?: Record<string, number>;
}

export interface PostReport {
  /** Members owed their frames from the given index on; never set after the second attempt. */
  retry?: Record<string, number>;
  /** True when `retry` holds anyone: the state machine's cue to Wait and post again. */
  retrying: boolean;
  /** Seconds the state machine waits before the repost. */
  waitSeconds: number;
  goneIds: string[];
  /** The repost machine's next round of resync tries: each member still unreached and its resync frame's seq. */
  resync?: Record<string, number>;
  /** Seconds the repost machine waits before that round (RESYNC_ROUND_WAITS_S). */
  resyncWaitSeconds?: number;
  /** The round `resync` is for. */
  round?: number;
}

export interface PostDeps {
  store: Pick<
    DynamoFanoutStore,
    'reserve' | 'reserveAll' | 'refund' | 'markResync' | 'resyncNotes' | 'clearResync'
  >;
  notifier: Notifier;
  postsPerSecond: number;
  now: () => number;
  random: () => number;
  /** Waits between the resync frame's tries (a test's own clock); real time by default. */
  pause?: (ms: number) => Promise<void>;
  /** The chat bus, for a `Repost` event; absent: reposts stay in the state machine. */
  events?: EventPublisher;
  /** Moves a member's connection out of a closed room to the lobby (core/aws/connections.ts moveOutOf). */
  moveOut?: (connectionId: string, roomId: string, at: string) => Promise<unknown>;
}

/**
 * Moves at once before a closed room's chunk is posted: a chunk's ≤ 100 members, four item calls each (moveOutOf: the
 * connection's move, the lobby's subscription, the room's deleted, the count off).
 * Exported for the bench: the model's closeroom (tools/bench/ownerActions.ts) moves as many at once.
 */
export const MOVES_AT_ONCE = 16;

/** Seconds between a chunk's post and its repost: long enough for a throttled stage's next second of budget. */
export const REPOST_WAIT_SECONDS = 2;

/** One member's posts: its frames from where it is, and its resync note. */
interface Target {
  connectionId: string;
  /** Index in the input's frames of its first frame here. */
  from: number;
  frames: Frame[];
  resyncAfter?: number;
}

export async function post(
  given: PostDeps,
  input: PostInput,
  deadline?: PostingDeadline,
): Promise<PostReport> {
  if (input.resync !== undefined) return resyncRound(given, input, deadline);
  const firstAttempt = input.retry === undefined;
  await moveOutIfClosed(given, input);
  const targets = await targetsOf(given, input);
  const wanted = targets.reduce((n, t) => n + t.frames.length, 0);
  // An everyone-broadcast fills at most half of a second's budget: a room's chunk always finds the rest.
  const ceiling = input.roomId === null ? BROADCAST_BUDGET_CEILING : 1;
  const granted =
    wanted === 0 ||
    (firstAttempt ? await reserve(given, wanted, ceiling) : await reserveNow(given, wanted, ceiling));
  const outcomes: FramesOutcome[] = granted
    ? await postFrames(given.notifier, targets, deadline)
    : targets.map(({ connectionId }) => ({ connectionId, confirmed: 0, outcome: 'retry' }));
  if (!granted) metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
  // Members the repost was posted to and could not reach: told now, if a try of their resync frame goes through.
  const owed = granted && !firstAttempt ? resyncOwed(input, targets, outcomes) : new Map<string, number>();
  const pauses = input.rounds === undefined ? RESYNC_PAUSES_MS : RESYNC_ROUND_PAUSES_MS;
  const { told, left } = await tryResync(given, input.roomId, owed, pauses, deadline);
  // In the repost machine, those left go to its next round instead of a note.
  const deferred = input.rounds !== undefined && left.size > 0 ? left : new Map<string, number>();
  const report = await settle(given, input, targets, outcomes, firstAttempt, told, deferred);
  if (deferred.size > 0)
    return {
      ...report,
      resync: Object.fromEntries(deferred),
      round: 1,
      resyncWaitSeconds: RESYNC_ROUND_WAITS_S[0] as number,
    };
  return report.retry && input.repostBy === 'bus' ? repostByBus(given, input, report) : report;
}

/**
 * A closed room's chunk (its `roomclosed` frame carries `movesOut`): each member is moved out to the lobby before its
 * posts, so a member told is out already (its next frame is the lobby's). The room index listed them when the chunk
 * was made, so the notice still reaches each. On the first attempt, the one that names the chunk's members
 * (`connectionIds`): a repost finds them moved, and one gone fails the move's condition. A failed move is logged:
 * that member's sends are refused ROOM_CLOSED until it leaves.
 */
async function moveOutIfClosed(given: PostDeps, input: PostInput): Promise<void> {
  const at = input.frames.find((f) => f.movesOut !== undefined)?.movesOut;
  const roomId = input.roomId;
  if (at === undefined || roomId === null || !given.moveOut) return;
  const moveOut = given.moveOut;
  await eachAtMost(input.connectionIds ?? [], MOVES_AT_ONCE, async (connectionId) => {
    await moveOut(connectionId, roomId, at).catch((error: unknown) =>
      logger.warn('a member of a closed room was not moved to the lobby', { roomId, connectionId, error }),
    );
  });
}

/**
 * One of the repost machine's rounds of resync tries: each member still owed its `resync` frame is tried
 * RESYNC_ROUND_PAUSES_MS; those left go to the next round, or, after the last, get a note.
 */
async function resyncRound(
  given: PostDeps,
  input: PostInput,
  deadline?: PostingDeadline,
): Promise<PostReport> {
  const round = input.rounds ?? 0;
  const owed = new Map(Object.entries(input.resync ?? {}));
  const { left, gone } = await tryResync(given, input.roomId, owed, RESYNC_ROUND_PAUSES_MS, deadline);
  const report: PostReport = { retrying: false, waitSeconds: 1, goneIds: gone };
  if (left.size > 0 && round + 1 < RESYNC_ROUNDS)
    return {
      ...report,
      resync: Object.fromEntries(left),
      round: round + 1,
      resyncWaitSeconds: RESYNC_ROUND_WAITS_S[round] as number,
    };
  for (const [connectionId, afterSeq] of left)
    await noteAt(given, input.roomId as string, connectionId, afterSeq);
  record({
    messageIds: [],
    targets: owed.size,
    deliveries: 0,
    posts: 0,
    throttled: left.size,
    failed: left.size,
    gone: gone.length,
    resyncs: left.size,
    retrying: false,
  });
  return report;
}

/**
 * Hands a first attempt's throttled members to the repost machine (statemachines/repost.asl.json) as a `Repost` event
 * on the chat bus: their frames and where each resumes, and the pause before the repost. Answered as settled (no
 * `retry`), so the chunk goes on to its prune and the execution to its end. A publish that fails leaves the report as
 * it was: the state machine posts them again itself.
 */
async function repostByBus(given: PostDeps, input: PostInput, report: PostReport): Promise<PostReport> {
  if (!given.events || input.roomId === null || !report.retry) return report;
  try {
    await given.events.publish([
      {
        type: 'Repost',
        messageId: randomUUID(),
        roomId: input.roomId,
        frames: input.frames,
        retry: report.retry,
        waitSeconds: report.waitSeconds,
      },
    ]);
  } catch (error) {
    logger.warn('repost not handed to the bus: the state machine posts again itself', {
      roomId: input.roomId,
      error,
    });
    return report;
  }
  return { retrying: false, waitSeconds: report.waitSeconds, goneIds: report.goneIds };
}

/** Each member the repost found throttled (429/5xx) and missing a frame of the room's messages, with its resync seq. */
function resyncOwed(input: PostInput, targets: Target[], outcomes: FramesOutcome[]): Map<string, number> {
  const owed = new Map<string, number>();
  if (input.roomId === null) return owed;
  outcomes.forEach((outcome, i) => {
    if (outcome.outcome !== 'retry') return;
    const target = targets[i] as Target;
    const missed = input.frames
      .slice(hasOf(target, outcome))
      .find((f) => f.messages > 0 && f.firstSeq !== undefined);
    if (missed !== undefined) owed.set(target.connectionId, (missed.firstSeq as number) - 1);
  });
  return owed;
}

/** Frames of the input a member has after its outcome (its resync frame, if it had one, not counted). */
const hasOf = (target: Target, outcome: FramesOutcome) =>
  target.from + Math.max(0, outcome.confirmed - (target.resyncAfter === undefined ? 0 : 1));

/** Each member's frames (from where a repost resumes), after its resync frame when it has a note. */
async function targetsOf(given: PostDeps, input: PostInput): Promise<Target[]> {
  const { roomId, frames } = input;
  const carriesMessages = frames.some((f) => f.messages > 0);
  // Notes matter only for a room's messages: a presence change or a broadcast is state, not history.
  const notes = roomId !== null && carriesMessages ? await notesOrNone(given, roomId) : {};
  const members: [string, number][] = input.retry
    ? Object.entries(input.retry)
    : (input.connectionIds ?? []).map((id) => [id, 0]);
  return members.map(([connectionId, from]) => {
    const resyncAfter = notes[connectionId];
    const own = frames.slice(from);
    return resyncAfter === undefined || roomId === null
      ? { connectionId, from, frames: own }
      : { connectionId, from, frames: [resyncFrame(roomId, resyncAfter), ...own], resyncAfter };
  });
}

/** Sorts the members by outcome: gone, owed a repost, or noted for a resync; clears the notes whose frame went. */
async function settle(
  given: PostDeps,
  input: PostInput,
  targets: Target[],
  outcomes: FramesOutcome[],
  firstAttempt: boolean,
  told: Set<string>,
  deferred: Map<string, number>,
): Promise<PostReport> {
  const goneIds = [...(input.goneIds ?? [])];
  const retry: Record<string, number> = {};
  let deliveries = 0;
  let posts = 0;
  let throttled = 0;
  let resyncs = 0;
  let failed = 0;
  for (const [i, outcome] of outcomes.entries()) {
    const target = targets[i] as Target;
    const sent = target.frames.slice(0, outcome.confirmed);
    deliveries += sent.reduce((n, f) => n + f.messages, 0);
    posts += sent.filter((f) => f.messages > 0).length;
    const noteWent = target.resyncAfter !== undefined && outcome.confirmed > 0;
    if (noteWent) await clearNote(given, input.roomId as string, target);
    // Frames of the input this member now has.
    const has = hasOf(target, outcome);
    if (outcome.outcome === 'delivered') continue;
    if (outcome.outcome === 'gone') {
      goneIds.push(target.connectionId);
      continue;
    }
    if (outcome.outcome === 'retry') throttled++;
    if (outcome.outcome === 'retry' && firstAttempt) {
      retry[target.connectionId] = has;
      continue;
    }
    // Refused for good, caught in flight, or still throttled on the repost: the member lacks frames.
    failed++;
    // Told by a resync frame since (tryResync): it fetches them from history now, no note to leave; or left to the
    // repost machine's next round of tries.
    if (told.has(target.connectionId) || deferred.has(target.connectionId)) continue;
    if (await noteResync(given, input, target.connectionId, has)) resyncs++;
  }
  const retrying = Object.keys(retry).length > 0;
  const summary = { targets: targets.length, deliveries, posts, throttled, failed, resyncs, retrying };
  record({
    ...summary,
    gone: goneIds.length - (input.goneIds?.length ?? 0),
    messageIds: messageIdsIn(input.frames),
  });
  return {
    ...(retrying ? { retry } : {}),
    retrying,
    waitSeconds: REPOST_WAIT_SECONDS,
    goneIds,
  };
}

/** The message ids a chunk's frames carry, for its log line: a message's journey is followed by its id. */
function messageIdsIn(frames: Frame[]): string[] {
  return frames.flatMap((frame) => {
    try {
      const parsed = JSON.parse(frame.payload) as {
        messageId?: unknown;
        messages?: { messageId?: unknown }[];
      };
      const ids = parsed.messages ? parsed.messages.map((m) => m.messageId) : [parsed.messageId];
      return ids.filter((id): id is string => typeof id === 'string');
    } catch {
      return [];
    }
  });
}

/** The post's metrics and its one log line. */
function record(summary: {
  messageIds: string[];
  targets: number;
  deliveries: number;
  posts: number;
  throttled: number;
  failed: number;
  gone: number;
  resyncs: number;
  retrying: boolean;
}): void {
  metrics.addMetric(METRIC.deliveries, MetricUnit.Count, summary.deliveries);
  metrics.addMetric(METRIC.messagePosts, MetricUnit.Count, summary.posts);
  metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, summary.throttled);
  metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, summary.gone);
  metrics.addMetric(METRIC.deliveryFailures, MetricUnit.Count, summary.failed);
  if (summary.throttled > 0 || summary.failed > 0)
    logger.warn('posts to be tried again or resynced', summary);
  else logger.info('posts delivered', summary);
}
