import type { Group } from '../domain/fanout/coalescing';
import { type FramesOutcome, type PostingDeadline, postFrames } from '../domain/fanout/delivery';
import { grantedPosts } from '../domain/fanout/dynamoFanout';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { giveBack, type Held, reserve } from './budget';
import { handedOn, messageIdOf, owedAgain } from './handOver';
import type { CycleDeps, PostReport, RoomPostInput } from './steps';
import { type Target, targetsOf } from './targets';
import { pastHandOver } from './timeBound';

/**
 * What a post goes on with once its posts are granted: the groups and resync notes to post, and what runs beside
 * the posts (an excess given back, the lease renewed); or, when it gives up before posting, the groups owed.
 */
type Ready =
  | { groups: Group[]; resync: RoomPostInput['resync']; beside: Promise<unknown>[] }
  | { owed: Group[] };

/** What became of a post's targets, member by member. */
interface Tally {
  deliveries: number;
  posts: number;
  throttled: number;
  goneIds: string[];
  /** Members to post to again, grouped by the range they are still owed. */
  owed: Map<string, Group>;
  /** Members refused for good or caught in flight: noted for a resync frame. */
  lost: { connectionId: string; afterSeq: number }[];
}

/**
 * Posts a chunk of a cycle, or a retry's groups, their frames. `held`: posts the claim reserved for this chunk
 * already; only a shortfall is reserved here, an excess given back.
 */
export async function post(
  given: CycleDeps,
  input: RoomPostInput,
  deadline: PostingDeadline | undefined,
  held: Held = undefined,
): Promise<PostReport> {
  const startedAt = given.now();
  const groups = groupsOf(input);
  nameLogLines(input, groups);
  const ready =
    input.groups !== undefined
      ? await readyRetry(given, input.roomId, groups, startedAt)
      : await readyChunk(given, input, groups, held, startedAt);
  if ('owed' in ready) return { groups: ready.owed, waitSeconds: 1, goneIds: [], messagesRead: 0 };
  const { targets, messagesRead } = await targetsOf(given.store, input, ready.groups, ready.resync);
  const [outcomes] = await Promise.all([postFrames(given.notifier, targets, deadline), ...ready.beside]);
  const tally = await tallyOutcomes(given, input.roomId, targets, outcomes, startedAt);
  const owed = await handedOn(
    given,
    input,
    await owedAgain(given, input.roomId, [...tally.owed.values()], tally.lost),
  );
  const report: PostReport = {
    groups: owed,
    waitSeconds: Math.max(1, ...owed.map((g) => g.waitSeconds ?? 1)),
    goneIds: tally.goneIds,
    messagesRead,
  };
  recordPosts(targets.length, tally, report);
  return report;
}

/** The groups a post covers: a retry's own, or a chunk's one range. */
function groupsOf(input: RoomPostInput): Group[] {
  return (
    input.groups ?? [
      {
        afterSeq: input.afterSeq ?? 0,
        uptoSeq: input.uptoSeq ?? 0,
        connectionIds: input.connectionIds ?? [],
      },
    ]
  );
}

const membersOf = (groups: Group[]): number => groups.reduce((n, g) => n + g.connectionIds.length, 0);

/** The execution's own message names its log lines, as SendMessage's and the state machine's do. */
function nameLogLines(input: RoomPostInput, groups: Group[]): void {
  const messageId = messageIdOf(input.payload);
  if (messageId) logger.setCorrelationId(messageId);
  logger.debug('posting to chunk', {
    roomId: input.roomId,
    retrying: input.groups !== undefined,
    members: membersOf(groups),
    uptoSeq: input.uptoSeq,
  });
}

/**
 * A retry: a member who left or moved since the first try gets nothing more. A member's note (its cycle's resync
 * frame was refused with the post this repost retries, or another repost ran out of budget for it) goes first in
 * this post, as in a cycle's: a repost may be the member's last post, and no cycle comes to a quiet room. A retry
 * takes its posts from the budget at once or not at all (then its members are owed again).
 */
async function readyRetry(
  given: CycleDeps,
  roomId: string,
  retried: Group[],
  startedAt: number,
): Promise<Ready> {
  const { store } = given;
  const [inRoom, resync] = await Promise.all([
    store.stillIn(
      roomId,
      retried.flatMap((g) => g.connectionIds),
    ),
    store.resyncNotes(roomId),
  ]);
  const groups = retried
    .map((g) => ({ ...g, connectionIds: g.connectionIds.filter((id) => inRoom.has(id)) }))
    .filter((g) => g.connectionIds.length > 0);
  const wanted = membersOf(groups);
  if (wanted > 0 && !(await store.reserveAll(wanted, given.postsPerSecond, startedAt))) {
    metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
    return { owed: await owedAgain(given, roomId, groups) };
  }
  return { groups, resync, beside: [] };
}

/**
 * A cycle's chunk: its posts reserved (or prepaid by its claim), the first chunk of a page renewing the lease. A
 * chunk that gets no budget, or started past the hand-over time (timeBound.ts), posts nothing: its members are owed.
 */
async function readyChunk(
  given: CycleDeps,
  input: RoomPostInput,
  groups: Group[],
  held: Held,
  startedAt: number,
): Promise<Ready> {
  const wanted = Math.max(1, (input.connectionIds?.length ?? 0) * (input.frames ?? 1));
  const renewed = renewLease(given, input, startedAt);
  const granted =
    !pastHandOver(input.startedAt, startedAt) &&
    (input.prepaid === true ||
      grantedPosts(held) >= wanted ||
      (await reserve(given, wanted - grantedPosts(held))));
  // Given back while the posts go, not before them.
  const givenBack = giveBack(given, held, granted ? wanted : 0);
  if (granted) return { groups, resync: input.resync, beside: [givenBack, renewed] };
  await Promise.all([givenBack, renewed]);
  const owed = groups.map((g) => ({ ...g, attempt: 2, retryUntil: startedAt + given.retrySeconds * 1000 }));
  return { owed: await handedOn(given, input, await owedAgain(given, input.roomId, owed)) };
}

/**
 * The first chunk of a page renews the lease beside its posts, not before them: a lease outlasts any chunk, and a
 * renewal that fails only leaves it to expire sooner.
 */
function renewLease(given: CycleDeps, input: RoomPostInput, startedAt: number): Promise<unknown> {
  if (input.chunkIndex !== 0 || input.owner === undefined) return Promise.resolve();
  return given.store.renew(input.roomId, input.owner, startedAt).catch((error) => {
    logger.warn('lease not renewed', { roomId: input.roomId, error });
  });
}

/** Counts what the posts did, clears the notes of members whose resync frame went, and sorts out the rest. */
async function tallyOutcomes(
  given: CycleDeps,
  roomId: string,
  targets: Target[],
  outcomes: FramesOutcome[],
  startedAt: number,
): Promise<Tally> {
  const tally: Tally = { deliveries: 0, posts: 0, throttled: 0, goneIds: [], owed: new Map(), lost: [] };
  for (const [i, outcome] of outcomes.entries()) {
    const target = targets[i] as Target;
    const sent = target.frames.slice(0, outcome.confirmed);
    tally.deliveries += sent.reduce((n, f) => n + f.messages, 0);
    tally.posts += sent.filter((f) => f.messages > 0).length;
    if (target.resyncAfter !== undefined && outcome.confirmed > 0)
      await given.store.clearResync(roomId, target.connectionId, target.resyncAfter);
    const position = Math.max(target.group.afterSeq, sent[sent.length - 1]?.lastSeq ?? target.group.afterSeq);
    if (outcome.outcome === 'delivered') continue;
    if (outcome.outcome === 'gone') tally.goneIds.push(target.connectionId);
    else if (outcome.outcome === 'retry') oweAgain(given, tally, target, position, startedAt);
    // Refused for good, or caught in flight (it may yet arrive, so it is not posted again): the member resyncs.
    else tally.lost.push({ connectionId: target.connectionId, afterSeq: position });
  }
  return tally;
}

/** A throttled member is owed the rest of its range, from `position`, in a group with the others owed the same. */
function oweAgain(given: CycleDeps, tally: Tally, target: Target, position: number, startedAt: number): void {
  tally.throttled++;
  const key = `${position}:${target.group.uptoSeq}`;
  const group = tally.owed.get(key) ?? {
    afterSeq: position,
    uptoSeq: target.group.uptoSeq,
    connectionIds: [],
    attempt: (target.group.attempt ?? 1) + 1,
    retryUntil: target.group.retryUntil ?? startedAt + given.retrySeconds * 1000,
  };
  group.connectionIds.push(target.connectionId);
  tally.owed.set(key, group);
}

/** The post's metrics and its one log line. */
function recordPosts(targets: number, tally: Tally, report: PostReport): void {
  const { deliveries, posts, throttled, lost } = tally;
  metrics.addMetric(METRIC.deliveries, MetricUnit.Count, deliveries);
  metrics.addMetric(METRIC.messagePosts, MetricUnit.Count, posts);
  metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, throttled);
  metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, report.goneIds.length);
  const summary = {
    targets,
    deliveries,
    posts,
    throttled,
    gone: report.goneIds.length,
    resync: lost.length,
    owed: membersOf(report.groups),
  };
  if (throttled > 0 || lost.length > 0) logger.warn('posts to be tried again or resynced', summary);
  else logger.info('posts delivered', summary);
}
