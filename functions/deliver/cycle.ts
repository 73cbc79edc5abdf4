import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import {
  BUSY_WINDOW_MS,
  type ClaimResult,
  type Cycle,
  type Frame,
  framesOf,
  type Group,
  HANDOVER_MS,
  resyncFrame,
} from '../domain/fanout/coalescing';
import { type PostingDeadline, postFrames } from '../domain/fanout/delivery';
import {
  type DynamoFanoutStore,
  grantedPosts,
  type MembersPage,
  type PostGrant,
} from '../domain/fanout/dynamoFanout';
import type { EventPublisher, Notifier } from '../domain/ports';
import { config } from '../platform/config';
import { onFirstCall } from '../platform/onFirstCall';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { fanoutStore } from '../platform/wiring/dynamodb';
import { eventPublisher } from '../platform/wiring/eventbridge';
import { notifier } from '../platform/wiring/managementApi';
import { handedOn, messageIdOf, owedAgain, startSuccessor } from './handOver';
import { withoutDepartedNotes } from './resyncNotes';
import { type PageStep, pastHandOver, runTimeBoundStep, type TimeBoundInput } from './timeBound';
import { deadlineOf, QUIET_RELEASE_MS } from './timing';

/**
 * The steps of a room's coalesced delivery that the state machine runs through Deliver (statemachines/fanout.asl.json):
 * claim the room's lease; post a chunk of members their frames, after reserving the chunk's posts in the account-wide
 * budget; release the lease (or go on with what arrived meanwhile). Retries of failed posts run after the release.
 * A room of at most one chunk is delivered by the claim itself (see claim below).
 */
export type CycleInput =
  | ClaimInput
  | { op: 'release'; roomId: string; owner: string; uptoSeq: number; startedAt: string }
  | PostInput
  | OweInput
  | TimeBoundInput
  | { op: 'abandon'; roomId: string; owner: string };

/** A chunk whose Deliver failed: its members are owed the cycle, handed on as any chunk's owed posts are. */
export interface OweInput {
  op: 'owe';
  roomId: string;
  payload: string;
  payloadSeq: number;
  groups: Group[];
}

/**
 * `chunkSize` (the state machine's chunk) makes the claim deliver a room of at most that many members itself, with
 * `payload` (the event's own frame) for a cycle of just this message; `pageSize` (the state machine's page) is what
 * it reads of a bigger room it knows (see claim).
 */
export interface ClaimInput {
  op: 'claim';
  roomId: string;
  seq: number;
  owner: string;
  payload?: string;
  chunkSize?: number;
  pageSize?: number;
}

/**
 * A bigger room's first page, read by its claim for the state machine's Map (in the shape its Query pages take):
 * the ids, where the next page starts, and whether the claim reserved the page's posts (its chunks then reserve none).
 */
export interface ClaimedPage {
  ids: string[];
  LastEvaluatedKey?: Record<string, AttributeValue>;
  prepaid: boolean;
}

/**
 * A claim that delivered the room itself answers what its release answered, so the state machine goes on as after
 * its own Release step; `posted` carries what the posts left (members owed a retry, members gone: the state machine
 * prunes and re-posts them), `releasePending` that the release is the state machine's to do.
 */
export type QuietClaimResult = ClaimResult & {
  posted?: { groups: Group[]; goneIds: string[] };
  releasePending?: true;
  page?: ClaimedPage;
};

/**
 * Posts to members: one chunk of a cycle (connectionIds with afterSeq/uptoSeq and the members owed a resync), or
 * the groups of a retry. `payload` is the event's own frame, posted as is when a group is exactly its message.
 */
export interface PostInput {
  op: 'post';
  roomId: string;
  payload?: string;
  payloadSeq?: number;
  connectionIds?: string[];
  afterSeq?: number;
  uptoSeq?: number;
  resync?: Record<string, number>;
  /** A cycle's chunk: the lease's holder, the chunk's place in its page (the first renews the lease), frames per member. */
  owner?: string;
  chunkIndex?: number;
  frames?: number;
  /** The chunk's posts were reserved by the claim that read its page. */
  prepaid?: boolean;
  /** The execution's start: a chunk started past the hand-over time posts nothing, its members are owed. */
  startedAt?: string;
  groups?: Group[];
}

export interface PostReport {
  /** What is still owed, to be tried again after `waitSeconds`. */
  groups: Group[];
  waitSeconds: number;
  goneIds: string[];
  /** Message reads this post needed: 0 when the event's own payload was the whole of it. */
  messagesRead: number;
}

/**
 * How long a chunk waits in Deliver for a second of the budget with room left. Its room's lease is held meanwhile, so
 * the room's new messages gather for its next cycle; past it, the chunk's members are owed the cycle and retried.
 */
const RESERVE_PATIENCE_MS = 3000;

/** Rooms whose member count an environment keeps for its next claim's reservation (a few bytes each). */
const REMEMBERED_ROOMS = 1000;

/** Posts reserved in the budget ahead of the posts they cover: the second and shards they were taken from. */
type Held = PostGrant | undefined;

export interface CycleDeps {
  store: DynamoFanoutStore;
  /**
   * What the next claim of a room reserves while it takes the lease, for the rooms this environment claimed last
   * (most recent last, at most REMEMBERED_ROOMS): the members of its last quiet cycle (more than a chunk: the claim
   * reads and reserves a page), or 0 for a room that coalesced. A room not here gets a whole chunk reserved (see claim).
   */
  reserveAhead: Map<string, number>;
  notifier: Notifier;
  /** The chat bus: owed posts and a successor are handed on through it (handOver.ts). */
  publisher: EventPublisher;
  postsPerSecond: number;
  retrySeconds: number;
  now: () => number;
  random: () => number;
  /** Waits `ms` (a busy room's window before its next cycle). */
  pause: (ms: number) => Promise<void>;
}

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
  if (typeof input.roomId !== 'string') throw new TypeError('a fan-out step needs its roomId');
  switch (input.op) {
    case 'claim':
      return claim(given, input, context);
    case 'release': {
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
    case 'post':
      return post(given, input, deadlineOf(context));
    case 'nextPage':
    case 'resume':
      return runTimeBoundStep(given, input);
    case 'abandon': {
      const pendingSeq = await given.store.abandon(input.roomId, input.owner);
      if (pendingSeq !== undefined)
        await startSuccessor(given.publisher, given.store, input.roomId, pendingSeq);
      return { released: true };
    }
    case 'owe': {
      const retryUntil = given.now() + given.retrySeconds * 1000;
      const owed = await owedAgain(
        given,
        input.roomId,
        input.groups.map((group) => ({ ...group, retryUntil })),
      );
      return { groups: await handedOn(given, input, owed), waitSeconds: 1, goneIds: [], messagesRead: 0 };
    }
    default:
      throw new TypeError(`unknown fan-out step "${(input as { op?: string }).op}"`);
  }
}

/**
 * Claims the room's lease while reading its first members and reserving their posts (one round trip for all; a
 * shortfall is reserved and an excess given back after): the member count this environment remembers, or a whole
 * chunk for a room it has not claimed yet, so that a quiet room's message never waits for its members before its
 * reservation, whichever environment it meets (on AWS a room's messages spread over the warm environments). A room
 * of at most `chunkSize` members is then delivered here, as one chunk of the state machine's Map would be, and the
 * lease released, so its message takes one Deliver invocation; a bigger room, or one whose members could not be
 * read, goes on through the state machine's pages and Map (bigRoom).
 */
async function claim(given: CycleDeps, input: ClaimInput, context?: Context): Promise<QuietClaimResult> {
  const { roomId, chunkSize, pageSize } = input;
  const remembered = given.reserveAhead.get(roomId);
  // A room remembered bigger than a chunk: its first page is read, and its posts reserved, with the lease.
  const readPage =
    chunkSize !== undefined && pageSize !== undefined && remembered !== undefined && remembered > chunkSize;
  // Reserved now, not after the members are read. A chunk for a room not claimed here yet: the most a claim posts.
  const ahead = chunkSize === undefined ? 0 : (remembered ?? chunkSize);
  const at = given.now();
  const [claimed, members, early] = await Promise.allSettled([
    given.store.claim(roomId, input.seq, input.owner, at),
    chunkSize === undefined
      ? undefined
      : // One more than a chunk: a page of exactly `chunkSize` would carry a start key whether or not more follow.
        given.store.membersPage(roomId, readPage ? Math.max(pageSize, chunkSize + 1) : chunkSize + 1),
    ahead === 0 ? undefined : given.store.reserveInParts(ahead, given.postsPerSecond, at),
  ]);
  const held: Held = early.status === 'fulfilled' ? early.value : undefined;
  if (claimed.status === 'rejected') {
    await giveBack(given, held, 0);
    throw claimed.reason;
  }
  const taken = claimed.value;
  if ('coalesced' in taken && taken.coalesced) {
    metrics.addMetric(METRIC.coalescedExecutions, MetricUnit.Count, 1);
    // A busy room: its next claim here reserves after reading the members again, not ahead of a likely coalesce.
    remember(given, roomId, 0);
    await giveBack(given, held, 0);
    return taken;
  }
  const cycle = 'resync' in taken ? await withoutDepartedNotes(given.store, roomId, taken) : taken;
  if (members.status === 'rejected')
    logger.warn('members left to the state machine to read', { roomId, error: members.reason });
  if (
    members.status === 'rejected' ||
    members.value === undefined ||
    'released' in cycle ||
    chunkSize === undefined
  ) {
    await giveBack(given, held, 0);
    return cycle;
  }
  const page = members.value;
  if (page.ids.length <= chunkSize && page.next === undefined)
    return deliverQuietRoom(given, input, cycle, page.ids, held, context);
  return bigRoom(given, roomId, cycle, page, held, readPage);
}

/**
 * A room bigger than a chunk goes on through the state machine's pages and Map. Its quiet cycles are remembered, so
 * this environment's next claim of it reads a whole page and reserves that page's posts with the lease: the claim
 * hands the page to the state machine (no Query state before the Map), and the page's chunks post without reserving.
 * A room that only showed one chunk and more, or a busy room's cycle, leaves the page and its reservations to the
 * state machine's Query and the chunks.
 */
async function bigRoom(
  given: CycleDeps,
  roomId: string,
  cycle: Cycle,
  page: MembersPage,
  held: Held,
  readPage: boolean,
): Promise<QuietClaimResult> {
  remember(given, roomId, cycle.uptoSeq - cycle.afterSeq === 1 ? page.ids.length : 0);
  if (!readPage) {
    await giveBack(given, held, 0);
    return cycle;
  }
  const needed = page.ids.length * cycle.frames;
  // The room grew since it was remembered: the shortfall now, at once, or the chunks reserve their own.
  const more =
    grantedPosts(held) >= needed
      ? undefined
      : await given.store
          .reserveInParts(needed - grantedPosts(held), given.postsPerSecond, given.now())
          .catch((error) => {
            logger.warn('page left to reserve its own posts', { roomId, error });
            return undefined;
          });
  const prepaid = grantedPosts(held) + grantedPosts(more) >= needed;
  // Paid: only an excess goes back. Not paid: all of it, and the chunks reserve their own.
  await Promise.all([
    giveBack(given, held, prepaid ? needed : 0),
    prepaid ? undefined : giveBack(given, more, 0),
  ]);
  const claimed: ClaimedPage = { ids: page.ids, prepaid };
  if (page.next) claimed.LastEvaluatedKey = page.next;
  return { ...cycle, page: claimed };
}

/** Gives back what `held` reserved beyond `kept` posts; a failure only leaves the budget stricter than needed. */
async function giveBack(given: CycleDeps, held: Held, kept: number): Promise<void> {
  if (!held || grantedPosts(held) <= kept) return;
  try {
    await given.store.refund(held, kept);
  } catch (error) {
    logger.warn('reserved posts not given back', { error });
  }
}

/** Notes what a room's next claim here reserves, forgetting the room claimed longest ago past REMEMBERED_ROOMS. */
function remember(given: CycleDeps, roomId: string, posts: number): void {
  given.reserveAhead.delete(roomId);
  given.reserveAhead.set(roomId, posts);
  if (given.reserveAhead.size > REMEMBERED_ROOMS) {
    const oldest = given.reserveAhead.keys().next().value;
    if (oldest !== undefined) given.reserveAhead.delete(oldest);
  }
}

/**
 * Posts the claimed cycle to the whole (one-chunk) room, then releases the lease; what the posts left and whatever
 * the release found (messages that arrived meanwhile: the next cycle) go back to the state machine.
 */
async function deliverQuietRoom(
  given: CycleDeps,
  input: ClaimInput,
  cycle: Cycle,
  members: string[],
  held: Held,
  context?: Context,
): Promise<QuietClaimResult> {
  const posted = { groups: [] as Group[], goneIds: [] as string[] };
  remember(given, input.roomId, members.length);
  if (members.length === 0) await giveBack(given, held, 0);
  else {
    const chunk: PostInput = {
      op: 'post',
      roomId: input.roomId,
      payload: input.payload,
      payloadSeq: input.seq,
      connectionIds: members,
      afterSeq: cycle.afterSeq,
      uptoSeq: cycle.uptoSeq,
      resync: cycle.resync,
      frames: cycle.frames,
    };
    try {
      const report = await post(given, chunk, deadlineOf(context, QUIET_RELEASE_MS), held);
      posted.groups = report.groups;
      posted.goneIds = report.goneIds;
    } catch (error) {
      // As the Map's Catch does for a chunk whose Deliver failed: the whole chunk is owed once more.
      logger.warn('quiet room posts failed; owed to the retries', { roomId: input.roomId, error });
      const owed = {
        ...cycleGroup(cycle, members),
        attempt: 2,
        retryUntil: given.now() + given.retrySeconds * 1000,
      };
      posted.groups = await handedOn(given, chunk, [owed]);
    }
  }
  const left = posted.groups.length > 0 || posted.goneIds.length > 0;
  try {
    const next = await given.store.release(input.roomId, input.owner, cycle.uptoSeq, given.now(), false, () =>
      given.pause(BUSY_WINDOW_MS),
    );
    return left ? { ...next, posted } : next;
  } catch (error) {
    logger.warn('release left to the state machine', { roomId: input.roomId, error });
    return { ...cycle, posted, releasePending: true };
  }
}

const cycleGroup = (cycle: Cycle, connectionIds: string[]): Group => ({
  afterSeq: cycle.afterSeq,
  uptoSeq: cycle.uptoSeq,
  connectionIds,
});

/** Reserves `posts` in the budget, waiting for up to RESERVE_PATIENCE_MS for a second with room for them. */
async function reserve(given: CycleDeps, posts: number): Promise<boolean> {
  const until = given.now() + RESERVE_PATIENCE_MS;
  for (;;) {
    if (await given.store.reserve(Math.max(1, posts), given.postsPerSecond, given.now())) return true;
    metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
    const nextSecond = 1000 - (given.now() % 1000);
    if (given.now() + nextSecond > until) return false;
    // Into the next second, spread so the waiting cycles of many rooms do not all retry at its first millisecond.
    await new Promise((resolve) => setTimeout(resolve, nextSecond + given.random() * 100));
  }
}

type Target = { connectionId: string; group: Group; frames: Frame[]; resyncAfter?: number };

/**
 * Each member's frames: its group's messages (read once per range, or the execution's own payload when the range is
 * that one message), after its resync frame when it has a note. Counts the reads in `report.messagesRead`.
 */
async function targetsOf(
  store: CycleDeps['store'],
  input: PostInput,
  groups: Group[],
  resync: PostInput['resync'],
  report: PostReport,
): Promise<Target[]> {
  const { roomId } = input;
  const framesByRange = new Map<string, Frame[]>();
  const framesFor = async (afterSeq: number, uptoSeq: number): Promise<Frame[]> => {
    const key = `${afterSeq}:${uptoSeq}`;
    const known = framesByRange.get(key);
    if (known) return known;
    let frames: Frame[];
    if (input.payload !== undefined && input.payloadSeq === uptoSeq && afterSeq === uptoSeq - 1)
      frames = [{ payload: input.payload, lastSeq: uptoSeq, messages: 1 }];
    else {
      report.messagesRead++;
      frames = framesOf(roomId, await store.messages(roomId, afterSeq, uptoSeq));
    }
    framesByRange.set(key, frames);
    return frames;
  };

  const targets: Target[] = [];
  for (const group of groups) {
    const messageFrames = await framesFor(group.afterSeq, group.uptoSeq);
    for (const connectionId of group.connectionIds) {
      const resyncAfter = resync?.[connectionId];
      const frames =
        resyncAfter === undefined ? messageFrames : [resyncFrame(roomId, resyncAfter), ...messageFrames];
      if (frames.length > 0) targets.push({ connectionId, group, frames, resyncAfter });
    }
  }

  return targets;
}

/** `held`: posts the claim reserved for this chunk already; only a shortfall is reserved here, an excess given back. */
async function post(
  given: CycleDeps,
  input: PostInput,
  deadline: PostingDeadline | undefined,
  held: Held = undefined,
): Promise<PostReport> {
  const { store, roomId } = { store: given.store, roomId: input.roomId };
  const retrying = input.groups !== undefined;
  let groups: Group[] = input.groups ?? [
    {
      afterSeq: input.afterSeq ?? 0,
      uptoSeq: input.uptoSeq ?? 0,
      connectionIds: input.connectionIds ?? [],
    },
  ];
  const startedAt = given.now();
  const report: PostReport = { groups: [], waitSeconds: 1, goneIds: [], messagesRead: 0 };
  let givenBack: Promise<void> = Promise.resolve();
  let renewed: Promise<unknown> = Promise.resolve();
  // The execution's own message names its log lines, as SendMessage's and the state machine's do.
  const messageId = messageIdOf(input.payload);
  if (messageId) logger.setCorrelationId(messageId);
  logger.debug('posting to chunk', {
    roomId,
    retrying,
    members: groups.reduce((n, g) => n + g.connectionIds.length, 0),
    uptoSeq: input.uptoSeq,
  });
  let resync = input.resync;
  if (retrying) {
    // A member who left or moved since the first try gets nothing more. A member's note (its cycle's resync frame
    // was refused with the post this repost retries, or another repost ran out of budget for it) goes first in this
    // post, as in a cycle's: a repost may be the member's last post, and no cycle comes to a quiet room.
    const [inRoom, notes] = await Promise.all([
      store.stillIn(
        roomId,
        groups.flatMap((g) => g.connectionIds),
      ),
      store.resyncNotes(roomId),
    ]);
    resync = notes;
    groups = groups
      .map((g) => ({ ...g, connectionIds: g.connectionIds.filter((id) => inRoom.has(id)) }))
      .filter((g) => g.connectionIds.length > 0);
    const wanted = groups.reduce((n, g) => n + g.connectionIds.length, 0);
    if (wanted > 0 && !(await store.reserveAll(wanted, given.postsPerSecond, startedAt))) {
      metrics.addMetric(METRIC.postBudgetWaits, MetricUnit.Count, 1);
      return { ...report, groups: await owedAgain(given, roomId, groups) };
    }
  } else {
    const wanted = Math.max(1, (input.connectionIds?.length ?? 0) * (input.frames ?? 1));
    // The first chunk of a page renews the lease beside its posts, not before them: a lease outlasts any chunk, and
    // a renewal that fails only leaves it to expire sooner.
    if (input.chunkIndex === 0 && input.owner !== undefined)
      renewed = store.renew(roomId, input.owner, startedAt).catch((error) => {
        logger.warn('lease not renewed', { roomId, error });
      });
    // A chunk started past the hand-over time (timeBound.ts) posts nothing: its members are owed, as on a full budget.
    const granted =
      !pastHandOver(input.startedAt, startedAt) &&
      (input.prepaid === true ||
        grantedPosts(held) >= wanted ||
        (await reserve(given, wanted - grantedPosts(held))));
    // Given back while the posts go, not before them.
    givenBack = giveBack(given, held, granted ? wanted : 0);
    if (!granted) {
      await Promise.all([givenBack, renewed]);
      const owed = groups.map((g) => ({
        ...g,
        attempt: 2,
        retryUntil: startedAt + given.retrySeconds * 1000,
      }));
      return { ...report, groups: await handedOn(given, input, await owedAgain(given, roomId, owed)) };
    }
  }

  const targets = await targetsOf(given.store, input, groups, resync, report);

  const [outcomes] = await Promise.all([postFrames(given.notifier, targets, deadline), givenBack, renewed]);

  let deliveries = 0;
  let posts = 0;
  let throttled = 0;
  const owed = new Map<string, Group>();
  const lost: { connectionId: string; afterSeq: number }[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    const target = targets[i] as (typeof targets)[number];
    const sent = target.frames.slice(0, outcome.confirmed);
    deliveries += sent.reduce((n, f) => n + f.messages, 0);
    posts += sent.filter((f) => f.messages > 0).length;
    if (target.resyncAfter !== undefined && outcome.confirmed > 0)
      await store.clearResync(roomId, target.connectionId, target.resyncAfter);
    const position = Math.max(target.group.afterSeq, sent[sent.length - 1]?.lastSeq ?? target.group.afterSeq);
    if (outcome.outcome === 'delivered') continue;
    if (outcome.outcome === 'gone') {
      report.goneIds.push(target.connectionId);
      continue;
    }
    if (outcome.outcome === 'retry') {
      throttled++;
      const key = `${position}:${target.group.uptoSeq}`;
      const group = owed.get(key) ?? {
        afterSeq: position,
        uptoSeq: target.group.uptoSeq,
        connectionIds: [],
        attempt: (target.group.attempt ?? 1) + 1,
        retryUntil: target.group.retryUntil ?? startedAt + given.retrySeconds * 1000,
      };
      group.connectionIds.push(target.connectionId);
      owed.set(key, group);
      continue;
    }
    // Refused for good, or caught in flight (it may yet arrive, so it is not posted again): the member resyncs.
    lost.push({ connectionId: target.connectionId, afterSeq: position });
  }
  report.groups = await handedOn(given, input, await owedAgain(given, roomId, [...owed.values()], lost));
  report.waitSeconds = Math.max(1, ...report.groups.map((g) => g.waitSeconds ?? 1));
  metrics.addMetric(METRIC.deliveries, MetricUnit.Count, deliveries);
  metrics.addMetric(METRIC.messagePosts, MetricUnit.Count, posts);
  metrics.addMetric(METRIC.postsThrottled, MetricUnit.Count, throttled);
  metrics.addMetric(METRIC.staleConnectionsPruned, MetricUnit.Count, report.goneIds.length);
  const summary = {
    targets: targets.length,
    deliveries,
    posts,
    throttled,
    gone: report.goneIds.length,
    resync: lost.length,
    owed: report.groups.reduce((n, g) => n + g.connectionIds.length, 0),
  };
  if (throttled > 0 || lost.length > 0) logger.warn('posts to be tried again or resynced', summary);
  else logger.info('posts delivered', summary);
  return report;
}
