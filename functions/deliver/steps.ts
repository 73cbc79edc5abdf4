import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ClaimResult, Group } from '../domain/fanout/coalescing';
import type { DynamoFanoutStore } from '../domain/fanout/dynamoFanout';
import type { EventPublisher, Notifier } from '../domain/ports';
import type { TimeBoundInput } from './timeBound';

/**
 * The steps of a room's coalesced delivery that the state machine runs through Deliver (statemachines/fanout.asl.json):
 * claim the room's lease; post a chunk of members their frames, after reserving the chunk's posts in the account-wide
 * budget; release the lease (or go on with what arrived meanwhile). Retries of failed posts run after the release.
 * A room of at most one chunk is delivered by the claim itself (claim.ts).
 */
export type CycleInput =
  | ClaimInput
  | ReleaseInput
  | PostInput
  | OweInput
  | TimeBoundInput
  | AbandonInput
  | ClaimFailedInput;

export interface ReleaseInput {
  op: 'release';
  roomId: string;
  owner: string;
  uptoSeq: number;
  startedAt: string;
}

export interface AbandonInput {
  op: 'abandon';
  roomId: string;
  owner: string;
}

/** A message's claim that failed past its retries: `failure` is the error Step Functions caught (for the log). */
export interface ClaimFailedInput {
  op: 'claimFailed';
  roomId: string;
  owner: string;
  failure?: string;
}

/** A chunk whose Deliver failed: its members are owed the cycle, handed on as any chunk's owed posts are. */
export interface OweInput {
  op: 'owe';
  /** Null for a broadcast to everyone. */
  roomId: string | null;
  payload: string;
  payloadSeq: number;
  groups: Group[];
}

/**
 * `chunkSize` (the state machine's chunk) makes the claim deliver a room of at most that many members itself, with
 * `payload` (the event's own frame) for a cycle of just this message; `pageSize` (the state machine's page) is what
 * it reads of a bigger room it knows (claim.ts).
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
 * the groups of a retry. `payload` is the event's own frame, posted as is when a group is exactly its message, or
 * when the range is empty (uptoSeq 0: a presence change or a broadcast, postAsIs.ts; roomId null for everyone).
 */
export interface PostInput {
  op: 'post';
  roomId: string | null;
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

/** A post of a room's messages (a chunk of its cycle, or their repost): always of a room. */
export type RoomPostInput = PostInput & { roomId: string };

export interface PostReport {
  /** What is still owed, to be tried again after `waitSeconds`. */
  groups: Group[];
  waitSeconds: number;
  goneIds: string[];
  /** Message reads this post needed: 0 when the event's own payload was the whole of it. */
  messagesRead: number;
}

export interface CycleDeps {
  store: DynamoFanoutStore;
  /**
   * What the next claim of a room reserves while it takes the lease, for the rooms this environment claimed last
   * (most recent last, at most REMEMBERED_ROOMS in budget.ts): the members of its last quiet cycle (more than a chunk:
   * the claim reads and reserves a page), or 0 for a room that coalesced. A room not here gets a whole chunk reserved.
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
