import { backoffSeconds, framesOf, type Group } from '../domain/fanout/coalescing';
import type { DynamoFanoutStore } from '../domain/fanout/dynamoFanout';
import { MAX_RESTARTS, type Restart } from '../domain/fanout/restarts';
import type { EventPublisher } from '../domain/ports';
import { logger, METRIC, MetricUnit, metrics } from '../platform/powertools';

/** What handing on needs of the cycle's dependencies (CycleDeps, steps.ts). */
export interface HandOnDeps {
  store: DynamoFanoutStore;
  publisher: EventPublisher;
  now: () => number;
  random: () => number;
}

/** A group to be tried again: its attempt and the wait before it (the repost's Wait state reads `waitSeconds`). */
export type OwedGroup = Group & { attempt: number; waitSeconds: number };

/** The cycle step whose posts are owed: a chunk's post, a repost (it has `groups`), or a failed chunk's `owe`. */
interface OwingStep {
  op: string;
  /** Null for a broadcast to everyone. */
  roomId: string | null;
  payload?: string;
  payloadSeq?: number;
  groups?: Group[];
}

/**
 * What a fan-out execution hands on instead of carrying it, so that its state stays the size of one page and its
 * time well inside Express's 5 minutes (docs/RELIABILITY.md, "Bounded state and time"): both go through the chat
 * bus, whose rule starts a fan-out execution for each.
 */

/**
 * A cycle's chunk whose members are owed a retry hands them to a repost execution of their own (FanoutRepost), run
 * without the lease, so neither the cycle's state nor its time grows with them. False when the bus refused it: the
 * caller then notes the members for a resync frame.
 */
export async function handOverOwed(
  publisher: EventPublisher,
  owed: {
    roomId: string | null;
    payload: string;
    payloadSeq: number;
    messageId: string;
    groups: OwedGroup[];
  },
): Promise<boolean> {
  try {
    await publisher.publish([
      {
        type: 'FanoutRepost',
        messageId: owed.messageId,
        roomId: owed.roomId,
        seq: owed.payloadSeq,
        payload: owed.payload,
        groups: owed.groups,
      },
    ]);
    return true;
  } catch (error) {
    logger.warn('owed posts not handed over; noted for a resync', { roomId: owed.roomId, error });
    return false;
  }
}

/**
 * A holder that ran past its hand-over time freed the lease with messages after its cursor: the execution of the
 * room's newest message is started again (FanoutHandOver, the MessageSent event's detail), so it claims the free lease
 * and delivers them, even when the room has gone quiet. Failing that, the lease is free and the room's next message
 * delivers them; the failure is counted.
 */
export async function startSuccessor(
  publisher: EventPublisher,
  store: DynamoFanoutStore,
  roomId: string,
  seq: number,
): Promise<void> {
  try {
    const [newest] = framesOf(roomId, await store.messages(roomId, seq - 1, seq));
    if (!newest) return;
    await publisher.publish([
      { type: 'FanoutHandOver', messageId: `${roomId}#${seq}`, roomId, seq, payload: newest.payload },
    ]);
  } catch (error) {
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
    logger.error('successor not started; the room waits for its next message', { roomId, seq, error });
  }
}

/**
 * After a failure freed the room's lease (an abandon, the sweep): starts the successor it owes, or says in the log
 * that the newest event has had its MAX_RESTARTS (restarts.ts) and the room waits for its next event, and counts
 * that event once (FanoutGaveUp, alarmed: a log line alone tells no one). True when a successor was asked for.
 */
export async function restartAfterFailure(
  given: Pick<HandOnDeps, 'publisher' | 'store'>,
  roomId: string,
  restart: Restart,
): Promise<boolean> {
  if (restart.gaveUpSeq !== undefined) {
    if (restart.firstGiveUp) metrics.addMetric(METRIC.fanoutGaveUp, MetricUnit.Count, 1);
    logger.error('no successor: the newest event had its restarts; the room waits for its next event', {
      roomId,
      seq: restart.gaveUpSeq,
      restarts: MAX_RESTARTS,
    });
  }
  if (restart.pendingSeq === undefined) return false;
  await startSuccessor(given.publisher, given.store, roomId, restart.pendingSeq);
  return true;
}

/**
 * A cycle's chunk hands what it still owes to a repost execution and returns nothing owed: the cycle's state never
 * carries them. Members the bus would not take are noted for a resync frame and counted. A repost (its input has
 * groups) keeps its owed groups: it retries them in its own loop.
 */
export async function handedOn(given: HandOnDeps, input: OwingStep, owed: OwedGroup[]): Promise<Group[]> {
  if (owed.length === 0 || (input.op === 'post' && input.groups !== undefined)) return owed;
  const handed =
    input.payload !== undefined &&
    input.payloadSeq !== undefined &&
    (await handOverOwed(given.publisher, {
      roomId: input.roomId,
      payload: input.payload,
      payloadSeq: input.payloadSeq,
      messageId: messageIdOf(input.payload) ?? `${input.roomId ?? 'everyone'}#${input.payloadSeq}`,
      groups: owed,
    }));
  if (!handed) await owedAgain(given, input.roomId, [], owed.flatMap(unreachedOf));
  return [];
}

/**
 * A member a post could not reach within its budget: the range it still misses from `afterSeq`, unless the post was
 * of an event as is (a presence change, a broadcast: `asIs`), which a resync would not bring back.
 */
export type Unreached = { connectionId: string; afterSeq: number; asIs?: true };

const unreachedOf = (g: Group): Unreached[] =>
  g.connectionIds.map((connectionId) => ({
    connectionId,
    afterSeq: g.afterSeq,
    ...(g.uptoSeq === 0 && { asIs: true as const }),
  }));

/**
 * The groups still worth a try, each with its wait; the members of groups past their retry budget, and the `lost`
 * ones, are counted as delivery failures and, when they miss messages, noted for a resync frame at their next
 * successful post.
 */
export async function owedAgain(
  given: HandOnDeps,
  roomId: string | null,
  groups: Group[],
  lost: Unreached[] = [],
): Promise<OwedGroup[]> {
  const now = given.now();
  const again: OwedGroup[] = [];
  const unreached = [...lost];
  for (const group of groups) {
    if (group.retryUntil !== undefined && now >= group.retryUntil) unreached.push(...unreachedOf(group));
    else {
      const attempt = group.attempt ?? 2;
      again.push({ ...group, attempt, waitSeconds: backoffSeconds(attempt, given.random) });
    }
  }
  const resync = roomId === null ? [] : unreached.filter((u) => !u.asIs);
  for (const { connectionId, afterSeq } of resync)
    await given.store.markResync(roomId as string, connectionId, afterSeq);
  if (unreached.length > 0) metrics.addMetric(METRIC.deliveryFailures, MetricUnit.Count, unreached.length);
  if (resync.length > 0) metrics.addMetric(METRIC.resyncsOwed, MetricUnit.Count, resync.length);
  return again;
}

/** The messageId of a `message` frame's text, if it is one. */
export function messageIdOf(payload: string | undefined): string | undefined {
  if (payload === undefined) return undefined;
  try {
    const id = (JSON.parse(payload) as { messageId?: unknown }).messageId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A repost whose Deliver failed past its retries: the members it still owed. */
export interface UnreachedInput {
  op: 'unreached';
  /** Null for a broadcast to everyone. */
  roomId: string | null;
  groups: Group[];
}

/** Counts every member of the groups unreached, and notes those missing messages for a resync frame. */
export async function noteUnreached(given: HandOnDeps, input: UnreachedInput): Promise<{ resyncs: number }> {
  if ((input?.roomId !== null && typeof input?.roomId !== 'string') || !Array.isArray(input.groups))
    throw new TypeError('an unreached step needs its roomId and groups');
  const lost = input.groups.flatMap(unreachedOf);
  await owedAgain(given, input.roomId, [], lost);
  return { resyncs: lost.length };
}
