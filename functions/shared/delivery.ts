import type { Notifier, PostOutcome } from './ports';

/** Fan-out: what one Map iteration of the state machine does with its chunk of connections. */

export interface DeliveryReport {
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
 * The default chunk (FanoutChunkSize 100) is posted all at once: with 50, a management API answering in 20 ms held a
 * 1,000-member fan-out at p50 358-371 ms on the bench, against 278-290 ms with 100 (docs/PERFORMANCE.md).
 */
export const POSTS_IN_FLIGHT = 100;

/**
 * A post starts only if twice the slowest answer of this chunk so far fits before the give-up point: when the
 * management API slows down, posts stop earlier, and what was not started goes back as retryIds instead of being
 * caught in flight. (Only answers count: one hung connection does not stop the rest of the chunk.)
 */
const ANSWER_MARGIN = 2;

/**
 * Posts one payload to a chunk of connections; sorts them by what the management API answered. Without a deadline
 * every post starts at once. With one, at most POSTS_IN_FLIGHT run at a time, none starts after `deadline.stopAt`
 * (epoch ms) or when the chunk's answers are too slow to come before `deadline.giveUpAt` (ANSWER_MARGIN), and posts
 * still unanswered at `deadline.giveUpAt` are not waited for. Those never started go back in retryIds, so a chunk cut
 * off mid-way is posted again only to the connections that did not get it; those caught in flight go in
 * unconfirmedIds and are not posted again, since they may still arrive.
 */
export async function postToConnections(
  notifier: Notifier,
  connectionIds: readonly string[],
  payload: string,
  deadline?: { stopAt: number; giveUpAt: number },
): Promise<DeliveryReport> {
  const outcomes: (PostOutcome | undefined)[] = new Array(connectionIds.length);
  const started: boolean[] = new Array(connectionIds.length).fill(deadline === undefined);
  if (deadline === undefined) {
    await Promise.all(
      connectionIds.map(async (id, i) => {
        outcomes[i] = await notifier.post(id, payload);
      }),
    );
  } else {
    let next = 0;
    let slowestMs = 0;
    const timeToStart = (now: number) =>
      now < deadline.stopAt && now + ANSWER_MARGIN * slowestMs < deadline.giveUpAt;
    const poster = async () => {
      while (next < connectionIds.length && timeToStart(Date.now())) {
        const i = next++;
        const since = Date.now();
        started[i] = true;
        outcomes[i] = await notifier.post(connectionIds[i] as string, payload);
        slowestMs = Math.max(slowestMs, Date.now() - since);
      }
    };
    const posts = Promise.all(
      Array.from({ length: Math.min(POSTS_IN_FLIGHT, connectionIds.length) }, poster),
    );
    // A post that fails after we stopped waiting must not surface as an unhandled rejection later.
    posts.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline.giveUpAt - Date.now()));
    });
    await Promise.race([posts, givenUp]);
    clearTimeout(timer);
  }
  const report: DeliveryReport = {
    delivered: 0,
    goneIds: [],
    retryIds: [],
    failedIds: [],
    unconfirmedIds: [],
  };
  connectionIds.forEach((id, i) => {
    const outcome = outcomes[i];
    if (outcome === 'delivered') report.delivered++;
    else if (outcome === 'gone') report.goneIds.push(id);
    else if (outcome === 'failed') report.failedIds.push(id);
    else if (outcome === 'retry' || !started[i]) report.retryIds.push(id);
    else report.unconfirmedIds.push(id);
  });
  return report;
}
