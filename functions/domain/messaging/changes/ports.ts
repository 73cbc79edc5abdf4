import type { NewSendRecord, SendRecord } from '../../ports';
import type { StoredChange, StoredMessage } from './frames';

/** What a change does to its message's item, in the transaction that stores the change. */
export type TargetUpdate =
  | { kind: 'edit'; text: string; editedAt: string }
  | { kind: 'delete'; by: 'author' | 'owner'; scrub: number[] }
  | { kind: 'react'; reactors: Record<string, string[]> };

/** One change, ready to store: the event under the seq it took, and the message's item as the event leaves it. */
export interface PlannedChange {
  event: StoredChange;
  expiresAt: number;
  /** The message's `changeSeq` as read: the update applies only if no other change came first. */
  readChangeSeq: number | undefined;
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
}
