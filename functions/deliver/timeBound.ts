import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type ClaimResult, HANDOVER_MS } from '../domain/fanout/coalescing';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import type { HandOnDeps } from './handOver';
import { messageIdOf } from './handOver';

/**
 * An Express execution is stopped at 5 minutes wherever it is, with nothing caught, so a lease holder starts no long
 * step past HANDOVER_MS after its start (docs/RELIABILITY.md, "Busy rooms"): not a cycle (the release hands over),
 * not a page (the pages left go to a successor that takes the lease over), not a chunk's posts (its members go to a
 * repost execution). A step started before then ends within Deliver's Timeout and its Retry, well inside the limit.
 */
export const pastHandOver = (startedAt: string | undefined, now: number): boolean =>
  startedAt !== undefined && now - Date.parse(startedAt) > HANDOVER_MS;

/** What the step before a page answers: go on (`{}`), or this execution handed its pages on and ends. */
export type PageStep = { handedOver?: true };

/** Before the next page of a holder's cycle: `startKey` is where that page starts. */
export interface NextPageInput {
  op: 'nextPage';
  roomId: string;
  owner: string;
  startedAt: string;
  seq: number;
  payload: string;
  startKey: Record<string, AttributeValue>;
}

/** The execution a holder handed its pages to: takes the lease over from `handedBy`. */
export interface ResumeInput {
  op: 'resume';
  roomId: string;
  owner: string;
  handedBy: string;
}

/**
 * Goes on to the next page (`{}`), or, past the hand-over time, hands the pages left to a successor execution
 * (FanoutHandOver with `handedBy` and `startKey`) that takes the lease over and delivers them with the same cycle, in
 * order, before the room's next cycle (`handedOver`: this execution ends). The lease is renewed first so it cannot
 * expire before the successor takes it. When the bus refused the successor the execution goes on: every chunk it
 * starts from now on hands its members to a repost execution, so it still ends in time and nobody is dropped.
 */
export async function nextPageOrHandOver(
  given: Pick<HandOnDeps, 'store' | 'publisher' | 'now'>,
  input: NextPageInput,
): Promise<PageStep> {
  const now = given.now();
  // An event posted as is (seq 0: a presence change, a broadcast) holds no lease to hand over: its pages go on, each
  // late chunk handing its members to a repost at once (post.ts, postAsIs.ts), so what is left takes a read and a
  // publish a page.
  if (input.seq === 0 || !pastHandOver(input.startedAt, now)) return {};
  const { roomId, owner } = input;
  try {
    // Taken over (by this hand-over's successor, when this step runs again, or by a claim after it expired): the
    // lease's holder delivers the rest.
    if (!(await given.store.renew(roomId, owner, now))) return { handedOver: true };
    await given.publisher.publish([
      {
        type: 'FanoutHandOver',
        messageId: messageIdOf(input.payload) ?? `${roomId}#${input.seq}`,
        roomId,
        seq: input.seq,
        payload: input.payload,
        handedBy: owner,
        startKey: input.startKey,
      },
    ]);
    logger.info('pages left handed to a successor', { roomId });
    return { handedOver: true };
  } catch (error) {
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
    logger.error('pages left not handed over; their chunks go to reposts', { roomId, error });
    return {};
  }
}

export type TimeBoundInput = NextPageInput | ResumeInput;

/**
 * `nextPage`: see nextPageOrHandOver. `resume`: the cycle handed on by `handedBy`, now this execution's; coalesced
 * when the lease went to another holder.
 */
export function runTimeBoundStep(
  given: Pick<HandOnDeps, 'store' | 'publisher' | 'now'>,
  input: TimeBoundInput,
): Promise<PageStep | ClaimResult> {
  if (input.op === 'nextPage') return nextPageOrHandOver(given, input);
  return given.store.resume(input.roomId, input.handedBy, input.owner, given.now());
}
