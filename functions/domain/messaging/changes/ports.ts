import type { NewSendRecord, ReactionState, ReactionSummary, SendRecord } from '../../ports';

export type { ReactionState, ReactionSummary };

import type { StoredChange, StoredMessage } from './frames';

/** What a change does to its message's item, in the transaction that stores the change. */
export type TargetUpdate =
  | { kind: 'edit'; text: string; editedAt: string }
  | { kind: 'delete'; by: 'author' | 'owner'; scrub: number[] }
  /** A reaction writes the Reactions table (ReactionStore), not the message: only the event is stored here. */
  | { kind: 'react' };

/** One change, ready to store: the event under the seq it took, and the message's item as the event leaves it. */
export interface PlannedChange {
  event: StoredChange;
  expiresAt: number;
  /** The message's `changeSeq` as read: the update applies only if no other change came first. */
  readChangeSeq: number | undefined;
  /** What the change does to the message's item (a reaction: nothing, its state is in the Reactions table). */
  update: TargetUpdate;
  record?: NewSendRecord;
}

/** What storing a change found: stored, or why not (nothing was written). */
export type ChangeOutcome =
  | { kind: 'stored' }
  /** Another change to the message (or its expiry) came between the read and the write: read it again. */
  | { kind: 'targetChanged' }
  | { kind: 'sentBefore'; record: SendRecord }
  /** The event's seq already holds an older event: the room's counter is behind (its item was re-created). */
  | { kind: 'seqOccupied' }
  /** Another transaction held one of the message's items (DynamoDB's TransactionConflict). */
  | { kind: 'conflict' };

export interface ChangeStore {
  /** The item under this seq of the room (a message or a change), read strongly consistent. */
  item(roomId: string, seq: number): Promise<StoredMessage | StoredChange | undefined>;
  /** The send recorded under this key (a clientMsgId's first change), if any. */
  record(sendKey: string): Promise<SendRecord | undefined>;
  /**
   * Stores the change under the seq it took, in one transaction of the message's items only (never the room's): the
   * event, the message's new state (compare-and-set on its `changeSeq`), scrubbed edits, the send record.
   */
  apply(change: PlannedChange): Promise<ChangeOutcome>;
  /** Marks the message as having reactions (`reacted`), once: `history` reads the reactions of those only. */
  flagReacted(roomId: string, seq: number): Promise<void>;
}

/** A message that reactions are given to. */
export interface ReactionTarget {
  roomId: string;
  seq: number;
}

export type GiveOutcome = 'given' | 'already' | 'memberLimit';
export type CountOutcome = 'counted' | 'kindsLimit' | 'totalLimit';

/**
 * Reactions, one small item per message and member plus a summary per message (platform/aws/reactions.ts), so that
 * many members react to one message at once: each write is a single-item update, never a transaction.
 */
export interface ReactionStore {
  /** The message's summary and the member's reactions, read strongly consistent. */
  state(target: ReactionTarget, memberKey: string): Promise<ReactionState>;
  /** Records the member's reaction: `already` if it gave it, `memberLimit` at reactionKindsPerMember. */
  give(target: ReactionTarget, memberKey: string, reaction: string, ttl: number): Promise<GiveOutcome>;
  /** Takes the member's reaction back: false if it had not given it. */
  takeBack(target: ReactionTarget, memberKey: string, reaction: string): Promise<boolean>;
  /** Counts a reaction given (1) or taken back (-1), refused at the message's caps (adding only). */
  count(target: ReactionTarget, reaction: string, delta: 1 | -1, ttl: number): Promise<CountOutcome>;
  /** Marks reaction event `seq` as counted (lastSeq only moves up) and returns the summary as it then stands. */
  mark(target: ReactionTarget, seq: number): Promise<ReactionSummary>;
}
