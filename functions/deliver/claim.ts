import type { Context } from 'aws-lambda';
import type { ClaimResult, Cycle } from '../domain/fanout/coalescing';
import { grantedPosts, type MembersPage } from '../domain/fanout/dynamoFanout';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';
import { giveBack, type Held, remember } from './budget';
import { deliverQuietRoom } from './quietRoom';
import { withoutDepartedNotes } from './resyncNotes';
import type { ClaimedPage, ClaimInput, CycleDeps, QuietClaimResult } from './steps';

/** What the claim's one round trip brought: the lease's answer, the first members, the posts reserved ahead. */
interface Taken {
  claimed: PromiseSettledResult<ClaimResult>;
  members: PromiseSettledResult<MembersPage | undefined>;
  held: Held;
  /** The room was remembered bigger than a chunk: a whole page was read, for its posts to be reserved now. */
  readPage: boolean;
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
export async function claim(
  given: CycleDeps,
  input: ClaimInput,
  context?: Context,
): Promise<QuietClaimResult> {
  const { roomId, chunkSize } = input;
  const { claimed, members, held, readPage } = await takeLease(given, input);
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

/** The lease, the room's first members and the posts reserved ahead for them, asked for all at once. */
async function takeLease(given: CycleDeps, input: ClaimInput): Promise<Taken> {
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
  return { claimed, members, held, readPage };
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
