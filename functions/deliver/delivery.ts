import type { Notifier, PostOutcome } from '#core/ports';

/** Fan-out: what one Map iteration of the state machine does with its chunk of connections. */

interface DeliveryReport {
  delivered: number;
  goneIds: string[];
  /** Worth another post: answered 429/5xx, or not started before the deadline. */
  retryIds: string[];
  failedIds: string[];
  /**
   * Posted but still unanswered when Deliver stopped waiting: perhaps delivered, so not posted again (a second post
   * would show the message twice if the first lands); the member fills any gap through `history`.
   */
  unconfirmedIds: string[];
}

/**
 * Posts a chunk may have in flight at once when it has a deadline: at the deadline, only these are unconfirmed.
 * It matches the default chunk (FanoutChunkSize 100), so a default chunk is posted all at once: a chunk that waits
 * for free slots delivers its last members one answer time later for no saving (posts cost the same either way).
 */
export const POSTS_IN_FLIGHT = 100;

/** When a chunk's posts stop starting and stop being waited for (epoch ms). */
export interface PostingDeadline {
  stopAt: number;
  giveUpAt: number;
}

/**
 * A post starts only if twice the slowest answer of this chunk so far fits before the give-up point: when the
 * management API slows down, posts stop earlier, and what was not started goes back as retryIds instead of being
 * caught in flight. (Only answers count: one hung connection does not stop the rest of the chunk.)
 */
const ANSWER_MARGIN = 2;

/**
 * Posts one payload to a chunk of connections (postFrames, one frame each); sorts them by what the management API
 * answered. Without a deadline every post starts at once. With one, at most POSTS_IN_FLIGHT run at a time, none
 * starts after `deadline.stopAt` or when the chunk's answers are too slow to come before `deadline.giveUpAt`
 * (ANSWER_MARGIN), and posts still unanswered at `deadline.giveUpAt` are not waited for. Those never started go back
 * in retryIds, so a chunk cut off mid-way is posted again only to the connections that did not get it; those caught
 * in flight go in unconfirmedIds and are not posted again, since they may still arrive.
 */
export async function postToConnections(
  notifier: Notifier,
  connectionIds: readonly string[],
  payload: string,
  deadline?: PostingDeadline,
): Promise<DeliveryReport> {
  const frames = [{ payload }];
  const outcomes = await postFrames(
    notifier,
    connectionIds.map((connectionId) => ({ connectionId, frames })),
    deadline,
  );
  const report: DeliveryReport = {
    delivered: 0,
    goneIds: [],
    retryIds: [],
    failedIds: [],
    unconfirmedIds: [],
  };
  for (const { connectionId, outcome } of outcomes) {
    if (outcome === 'delivered') report.delivered++;
    else if (outcome === 'gone') report.goneIds.push(connectionId);
    else if (outcome === 'failed') report.failedIds.push(connectionId);
    else if (outcome === 'unconfirmed') report.unconfirmedIds.push(connectionId);
    // Answered 429/5xx, or never started.
    else report.retryIds.push(connectionId);
  }
  return report;
}

/** What became of one connection's frames (postFrames). */
export interface FramesOutcome {
  connectionId: string;
  /** Frames confirmed, from the first: the connection has everything up to the last of them. */
  confirmed: number;
  /** Why the rest were not confirmed; 'delivered' when none is left. */
  outcome: PostOutcome | 'unconfirmed';
}

/**
 * Posts each connection its frames, in order, one after the other; a connection whose post is not confirmed gets
 * none of its later frames (they go back to the caller with it), so a frame is never posted after a gap. Deadlines
 * as in postToConnections: at most POSTS_IN_FLIGHT connections are posted to at once, no post starts after
 * `deadline.stopAt` or when answers are too slow to come before `deadline.giveUpAt`, and a post still unanswered
 * then is 'unconfirmed' (it may yet arrive, so it is never posted again).
 */
export async function postFrames(
  notifier: Notifier,
  targets: readonly { connectionId: string; frames: readonly { payload: string }[] }[],
  deadline?: PostingDeadline,
): Promise<FramesOutcome[]> {
  const results: FramesOutcome[] = targets.map(({ connectionId }) => ({
    connectionId,
    confirmed: 0,
    outcome: 'retry',
  }));
  let next = 0;
  let slowestMs = 0;
  const timeToStart = (now: number) =>
    deadline === undefined || (now < deadline.stopAt && now + ANSWER_MARGIN * slowestMs < deadline.giveUpAt);
  const poster = async () => {
    while (next < targets.length) {
      const i = next++;
      const target = targets[i] as (typeof targets)[number];
      const result = results[i] as FramesOutcome;
      for (const frame of target.frames) {
        if (!timeToStart(Date.now())) {
          result.outcome = 'retry';
          return;
        }
        const since = Date.now();
        result.outcome = 'unconfirmed';
        const outcome = await notifier.post(target.connectionId, frame.payload);
        slowestMs = Math.max(slowestMs, Date.now() - since);
        result.outcome = outcome;
        if (outcome !== 'delivered') break;
        result.confirmed++;
      }
    }
  };
  const posts = Promise.all(
    Array.from({ length: Math.min(deadline ? POSTS_IN_FLIGHT : targets.length, targets.length) }, poster),
  );
  if (deadline === undefined) {
    await posts;
    return results;
  }
  // A post that fails after we stopped waiting must not surface as an unhandled rejection later.
  posts.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const givenUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadline.giveUpAt - Date.now()));
  });
  await Promise.race([posts, givenUp]);
  clearTimeout(timer);
  // A snapshot: posts still in flight must not change what was reported.
  return results.map((r) => ({ ...r }));
}
