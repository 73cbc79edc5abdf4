import type { Context } from 'aws-lambda';
import type { PostingDeadline } from './delivery';

/**
 * Deliver starts no post later than STOP_POSTING_MS before its timeout (earlier when the chunk's answers are slow,
 * see postToConnections), stops waiting for posts in flight GIVE_UP_MS before it, and hands back the connections it
 * never posted to for the repost; the last second is for sorting, logging and returning. A post still in flight then
 * may yet arrive, so it is reported as unconfirmed and never posted again: posting it again would show the message
 * twice whenever the first post lands after all. Posts in flight get at most a third of Deliver's Timeout
 * (template.yaml; tests/template/deploy.test.ts holds the Timeout to at least three times this), far more than a
 * healthy management API needs, so that only a post that is really stuck is ever caught in flight.
 */
export const STOP_POSTING_MS = 10_000;
export const GIVE_UP_MS = 1000;

/**
 * The posting deadline of this invocation, from its context's remaining time: STOP_POSTING_MS and GIVE_UP_MS before
 * the timeout. None without a context (a direct call in a test).
 */
export function deadlineOf(context: Context | undefined): PostingDeadline | undefined {
  if (!context) return undefined;
  const timeoutAt = Date.now() + context.getRemainingTimeInMillis();
  return { stopAt: timeoutAt - STOP_POSTING_MS, giveUpAt: timeoutAt - GIVE_UP_MS };
}
