import type { Group } from '../domain/fanout/coalescing';
import { type FramesOutcome, type PostingDeadline, postFrames } from '../domain/fanout/delivery';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { reserve } from './budget';
import { handedOn, owedAgain } from './handOver';
import type { CycleDeps, PostInput, PostReport } from './steps';
import { pastHandOver } from './timeBound';

/**
 * Posts of an event that is no message of a room's sequence: a presence change, a room's broadcast, a broadcast to
 * everyone (roomId null). They take no seq (a member's unread count is the room's seq less what it read, and history
 * is the room's messages; docs/DECISIONS.md) and no lease, but ride the same pages, chunks, posting budget, prunes
 * and reposts as a room's messages: the state machine gives them the empty range (uptoSeq 0), and Deliver posts the
 * event's own payload, once, to each member. Nothing owed is noted for a resync: it is state, not history.
 */

/** A post of an event as is: the empty range (a room's seqs start at 1). */
export const isAsIs = (input: PostInput): boolean =>
  input.groups !== undefined ? input.groups.every((g) => g.uptoSeq === 0) : input.uptoSeq === 0;

/** The one frame each member gets, and what became of it. */
export async function postAsIs(
  given: CycleDeps,
  input: PostInput,
  deadline: PostingDeadline | undefined,
): Promise<PostReport> {
  if (typeof input.payload !== 'string') throw new TypeError('an event posted as is needs its payload');
  const startedAt = given.now();
  const group = await recipientsOf(given, input, startedAt);
  if (!(await budgetGranted(given, input, group, startedAt))) {
    const owed = [{ ...group, attempt: (group.attempt ?? 1) + 1 }];
    return report(await handedOn(given, input, await owedAgain(given, input.roomId, owed)), []);
  }
  const frames = [{ payload: input.payload }];
  const outcomes = await postFrames(
    given.notifier,
    group.connectionIds.map((connectionId) => ({ connectionId, frames })),
    deadline,
  );
  const { owed, goneIds } = sortOutcomes(group, outcomes);
  const latencyMs = sinceSent(input.payload, given.now());
  if (latencyMs !== undefined) metrics.addMetric(METRIC.deliveryLatency, MetricUnit.Milliseconds, latencyMs);
  return report(await handedOn(given, input, await owedAgain(given, input.roomId, owed)), goneIds);
}

/**
 * Who this post is for, as one group: a chunk's members, or a repost's still owed. A repost in a room skips members
 * who left it since (a member who left gets no more of its presence); a broadcast to everyone has no room to check.
 */
async function recipientsOf(given: CycleDeps, input: PostInput, startedAt: number): Promise<Group> {
  const first = input.groups?.[0];
  const ids = input.groups?.flatMap((g) => g.connectionIds) ?? input.connectionIds ?? [];
  const inRoom =
    input.groups !== undefined && input.roomId !== null
      ? await given.store.stillIn(input.roomId, ids)
      : undefined;
  return {
    afterSeq: 0,
    uptoSeq: 0,
    connectionIds: inRoom ? ids.filter((id) => inRoom.has(id)) : ids,
    attempt: first?.attempt ?? 1,
    retryUntil: first?.retryUntil ?? startedAt + given.retrySeconds * 1000,
  };
}

/**
 * The posts reserved in the account-wide budget: a chunk waits a little for them (budget.ts), a repost takes them at
 * once or not at all. A chunk started past the hand-over time (timeBound.ts) posts nothing: its members are owed.
 */
async function budgetGranted(given: CycleDeps, input: PostInput, group: Group, startedAt: number) {
  const wanted = group.connectionIds.length;
  if (wanted === 0) return true;
  if (input.groups !== undefined) {
    if (await given.store.reserveAll(wanted, given.postsPerSecond, startedAt)) return true;
    metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
    return false;
  }
  return !pastHandOver(input.startedAt, startedAt) && (input.prepaid === true || reserve(given, wanted));
}

/** Throttled or never started: owed again, in one group; refused for good or caught in flight: counted failed. */
function sortOutcomes(group: Group, outcomes: FramesOutcome[]): { owed: Group[]; goneIds: string[] } {
  const retry: string[] = [];
  const goneIds: string[] = [];
  let delivered = 0;
  let failed = 0;
  for (const { connectionId, outcome } of outcomes) {
    if (outcome === 'delivered') delivered++;
    else if (outcome === 'gone') goneIds.push(connectionId);
    else if (outcome === 'retry') retry.push(connectionId);
    else failed++;
  }
  metrics.addMetric(METRIC.deliveries, MetricUnit.Count, delivered);
  metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, retry.length);
  metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, goneIds.length);
  metrics.addMetric(METRIC.deliveryFailures, MetricUnit.Count, failed);
  const summary = { delivered, gone: goneIds.length, retry: retry.length, failed };
  if (retry.length > 0 || failed > 0) logger.warn('event posted with failures', summary);
  else logger.info('event posted', summary);
  const owed =
    retry.length > 0 ? [{ ...group, connectionIds: retry, attempt: (group.attempt ?? 1) + 1 }] : [];
  return { owed, goneIds };
}

/** Time from the event's `sentAt` (a broadcast's frame has one) to the end of these posts. */
function sinceSent(payload: string, now: number): number | undefined {
  try {
    const sentAt = Date.parse((JSON.parse(payload) as { sentAt?: string }).sentAt ?? '');
    return Number.isNaN(sentAt) ? undefined : Math.max(0, now - sentAt);
  } catch {
    return undefined;
  }
}

/** What the state machine goes on with: a repost's owed groups (a chunk hands them on), the members to prune. */
function report(groups: Group[], goneIds: string[]): PostReport {
  return {
    groups,
    waitSeconds: Math.max(1, ...groups.map((g) => g.waitSeconds ?? 1)),
    goneIds,
    messagesRead: 0,
  };
}
