import type { Context } from 'aws-lambda';
import { BUSY_WINDOW_MS, type Cycle, type Group } from '../domain/fanout/coalescing';
import { logger } from '../platform/powertools';
import { giveBack, type Held, remember } from './budget';
import { handedOn, owedAgain } from './handOver';
import { post } from './post';
import type { ClaimInput, CycleDeps, QuietClaimResult, RoomPostInput } from './steps';
import { deadlineOf, QUIET_RELEASE_MS } from './timing';

type Posted = NonNullable<QuietClaimResult['posted']>;

/**
 * Posts the claimed cycle to the whole (one-chunk) room, then releases the lease; what the posts left and whatever
 * the release found (messages that arrived meanwhile: the next cycle) go back to the state machine.
 */
export async function deliverQuietRoom(
  given: CycleDeps,
  input: ClaimInput,
  cycle: Cycle,
  members: string[],
  held: Held,
  context?: Context,
): Promise<QuietClaimResult> {
  remember(given, input.roomId, members.length);
  const posted =
    members.length === 0
      ? await giveBack(given, held, 0).then(() => ({ groups: [], goneIds: [] }))
      : await postQuietRoom(given, input, cycle, members, held, context);
  return releaseQuietRoom(given, input, cycle, posted);
}

/** The room's one chunk, posted as the state machine's Map would post it; a failure owes the whole chunk a retry. */
async function postQuietRoom(
  given: CycleDeps,
  input: ClaimInput,
  cycle: Cycle,
  members: string[],
  held: Held,
  context?: Context,
): Promise<Posted> {
  const chunk: RoomPostInput = {
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
    const { groups, goneIds } = await post(given, chunk, deadlineOf(context, QUIET_RELEASE_MS), held);
    return { groups, goneIds };
  } catch (error) {
    // As the Map's Catch does for a chunk whose Deliver failed (cycle.ts, owe): the whole chunk is owed once more,
    // within the retry budget and with the repost's wait before its first try.
    logger.warn('quiet room posts failed; owed to the retries', { roomId: input.roomId, error });
    const owed = { ...cycleGroup(cycle, members), retryUntil: given.now() + given.retrySeconds * 1000 };
    return {
      groups: await handedOn(given, chunk, await owedAgain(given, input.roomId, [owed])),
      goneIds: [],
    };
  }
}

/** Releases the lease after the posts; a release that fails is left to the state machine's own Release step. */
async function releaseQuietRoom(
  given: CycleDeps,
  input: ClaimInput,
  cycle: Cycle,
  posted: Posted,
): Promise<QuietClaimResult> {
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
