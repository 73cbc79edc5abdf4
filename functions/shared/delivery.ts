import type { Notifier, PostOutcome } from './ports';

/** Fan-out: what one Map iteration of the state machine does with its chunk of connections. */

export interface DeliveryReport {
  delivered: number;
  goneIds: string[];
  /** Worth another post: answered 429/5xx, or not confirmed before the deadline. */
  retryIds: string[];
  failedIds: string[];
}

/** Posts a chunk may have in flight at once when it has a deadline: at the deadline, only these are unconfirmed. */
export const POSTS_IN_FLIGHT = 50;

/**
 * Posts one payload to a chunk of connections; sorts them by what the management API answered. Without a deadline
 * every post starts at once. With one, at most POSTS_IN_FLIGHT run at a time, none starts after `deadline.stopAt`
 * (epoch ms), and posts still unanswered at `deadline.giveUpAt` are not waited for: both go back in retryIds, so a
 * chunk cut off mid-way is posted again only to the connections that did not confirm. (A post given up in flight
 * may still arrive; the client drops a seq it already holds.)
 */
export async function postToConnections(
  notifier: Notifier,
  connectionIds: readonly string[],
  payload: string,
  deadline?: { stopAt: number; giveUpAt: number },
): Promise<DeliveryReport & { unconfirmed: number }> {
  const outcomes: (PostOutcome | undefined)[] = new Array(connectionIds.length);
  if (deadline === undefined) {
    await Promise.all(
      connectionIds.map(async (id, i) => {
        outcomes[i] = await notifier.post(id, payload);
      }),
    );
  } else {
    let next = 0;
    const poster = async () => {
      while (next < connectionIds.length && Date.now() < deadline.stopAt) {
        const i = next++;
        outcomes[i] = await notifier.post(connectionIds[i] as string, payload);
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
  const report = {
    delivered: 0,
    goneIds: [] as string[],
    retryIds: [] as string[],
    failedIds: [] as string[],
  };
  let unconfirmed = 0;
  connectionIds.forEach((id, i) => {
    const outcome = outcomes[i];
    if (outcome === 'delivered') report.delivered++;
    else if (outcome === 'gone') report.goneIds.push(id);
    else if (outcome === 'failed') report.failedIds.push(id);
    else {
      report.retryIds.push(id);
      if (outcome === undefined) unconfirmed++;
    }
  });
  return { ...report, unconfirmed };
}
