import type { Context } from 'aws-lambda';
import { BUSY_WINDOW_MS, HANDOVER_MS } from '../domain/fanout/coalescing';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { fanoutStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';
import { notifier } from '../platform/wiring/managementApi';
import { claim } from './claim';
import { handedOn, owedAgain, restartAfterFailure, startSuccessor } from './handOver';
import { post } from './post';
import { isAsIs, postAsIs } from './postAsIs';
import type {
  AbandonInput,
  ClaimFailedInput,
  CycleDeps,
  CycleInput,
  OweInput,
  PostReport,
  QuietClaimResult,
  ReleaseInput,
} from './steps';
import { type PageStep, runTimeBoundStep } from './timeBound';
import { deadlineOf } from './timing';

/**
 * The entry to a room's coalesced delivery (the steps and their inputs: steps.ts): claim.ts takes the lease and
 * delivers a quiet room itself (quietRoom.ts), post.ts posts a chunk or a retry, and the steps here release or
 * abandon the lease and owe a failed chunk's members their cycle.
 */
export type {
  ClaimedPage,
  ClaimInput,
  CycleDeps,
  CycleInput,
  OweInput,
  PostInput,
  PostReport,
  QuietClaimResult,
} from './steps';

const deps = onFirstCall(
  (): CycleDeps => ({
    store: fanoutStore(),
    reserveAhead: new Map(),
    notifier: notifier(),
    publisher: eventPublisher(),
    postsPerSecond: config.fanoutPostsPerSecond(),
    retrySeconds: config.fanoutRetrySeconds(),
    now: Date.now,
    random: Math.random,
    pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }),
);

export async function runCycleStep(
  input: CycleInput,
  context?: Context,
  given: CycleDeps = deps(),
): Promise<QuietClaimResult | PostReport | PageStep> {
  const everyone = input.roomId === null && (input.op === 'post' || input.op === 'owe');
  if (typeof input.roomId !== 'string' && !everyone) throw new TypeError('a fan-out step needs its roomId');
  switch (input.op) {
    case 'claim':
      return claim(given, input, context);
    case 'release':
      return release(given, input);
    case 'post':
      if (isAsIs(input)) return postAsIs(given, input, deadlineOf(context));
      if (input.roomId === null) throw new TypeError('only an event posted as is goes to everyone');
      return post(given, { ...input, roomId: input.roomId }, deadlineOf(context));
    case 'nextPage':
    case 'resume':
      return runTimeBoundStep(given, input);
    case 'abandon':
      return abandon(given, input);
    case 'claimFailed':
      return claimFailed(given, input);
    case 'owe':
      return owe(given, input);
    default:
      throw new TypeError(`unknown fan-out step "${(input as { op?: string }).op}"`);
  }
}

/**
 * Releases the lease after a cycle, or goes on with the messages that arrived meanwhile (after a busy room's
 * window); a cycle that ran past the hand-over time leaves them to a successor execution.
 */
async function release(given: CycleDeps, input: ReleaseInput): Promise<QuietClaimResult> {
  const ranFor = given.now() - Date.parse(input.startedAt);
  const next = await given.store.release(
    input.roomId,
    input.owner,
    input.uptoSeq,
    given.now(),
    ranFor > HANDOVER_MS,
    () => given.pause(BUSY_WINDOW_MS),
  );
  if ('pendingSeq' in next && next.pendingSeq !== undefined) {
    await startSuccessor(given.publisher, given.store, input.roomId, next.pendingSeq);
    return { released: true };
  }
  return next;
}

/** Gives up the lease of a cycle that failed; messages that arrived meanwhile go to a successor execution. */
async function abandon(given: CycleDeps, input: AbandonInput): Promise<QuietClaimResult> {
  await restartAfterFailure(given, input.roomId, await given.store.abandon(input.roomId, input.owner));
  return { released: true };
}

/**
 * A message's claim failed past its retries (Deliver throttled, DynamoDB failing): a lease it took is abandoned and a
 * successor started, as after a failed cycle; a room whose messages nobody delivers is left to the next minute's sweep
 * (dynamoLease.ts, afterFailedClaim), not to a successor started now: a throttle that outlasted the claim's ~20 s of
 * retries would likely refuse that successor's claim too. The sweep tries a minute later, and again each minute a
 * successor's claim fails, up to MAX_RESTARTS times per newest event (restarts.ts).
 */
async function claimFailed(given: CycleDeps, input: ClaimFailedInput): Promise<{ released: true }> {
  const outcome = await given.store.afterFailedClaim(input.roomId, input.owner, given.now());
  logger.warn('claim failed past its retries', { roomId: input.roomId, failure: input.failure, outcome });
  if ('abandoned' in outcome) await restartAfterFailure(given, input.roomId, outcome);
  return { released: true };
}

/**
 * A chunk whose Deliver failed past its retries (counted: DeliveryChunksFailed): its members are owed the cycle, or
 * the event, within the retry budget, and handed on.
 */
async function owe(given: CycleDeps, input: OweInput): Promise<PostReport> {
  metrics.addMetric(METRIC.deliveryChunksFailed, MetricUnit.Count, 1);
  const retryUntil = given.now() + given.retrySeconds * 1000;
  const owed = await owedAgain(
    given,
    input.roomId,
    input.groups.map((group) => ({ ...group, retryUntil })),
  );
  return { groups: await handedOn(given, input, owed), waitSeconds: 1, goneIds: [], messagesRead: 0 };
}
