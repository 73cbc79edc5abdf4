import type { Room, RoomLife, SendRecord } from '../../ports';
import type { StoredChange, StoredMessage } from './frames';

/** What a change does to its message's item, in the transaction that stores the change. */
export type TargetUpdate =
  | { kind: 'edit'; text: string; editedAt: string }
  | { kind: 'delete'; by: 'author' | 'owner'; scrub: number[] }
  | { kind: 'react'; reactors: Record<string, string[]> };

/** One change, ready to store: the event under the room's next seq, and the message's item as the event leaves it. */
export interface PlannedChange {
  event: StoredChange;
  /** The room's seq as read: the event takes the next one only if no other event took it first. */
  roomSeq: number | undefined;
  expiresAt: number;
  /** The message's `changeSeq` as read: the update applies only if no other change came first. */
  readChangeSeq: number | undefined;
  update: TargetUpdate;
  record?: { sendKey: string; publisher: string; expiresAt: number };
  life?: RoomLife;
}

/** What storing a change found: stored, or why not (nothing was written). */
export type ChangeOutcome =
  | { kind: 'stored' }
  /** Another event took the seq; `targetChanged` when the message changed too (read it again). */
  | { kind: 'seqTaken'; roomSeq: number; targetChanged: boolean }
  /** Another change to the message (or its expiry) came between the read and the write: read it again. */
  | { kind: 'targetChanged' }
  | { kind: 'sentBefore'; record: SendRecord }
  | { kind: 'roomGone'; room: Room }
  | { kind: 'conflict' };

export interface ChangeStore {
  /** The item under this seq of the room (a message or a change), read strongly consistent. */
  item(roomId: string, seq: number): Promise<StoredMessage | StoredChange | undefined>;
  /** The send recorded under this key (a clientMsgId's first change), if any. */
  record(sendKey: string): Promise<SendRecord | undefined>;
  /** Stores the change in one transaction: the room's seq, the event, the message's item, the send record. */
  apply(change: PlannedChange): Promise<ChangeOutcome>;
}
