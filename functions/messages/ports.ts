import type { ChatPorts, Room, RoomLife } from '#core/ports';
import type { ChatMessage } from '#core/protocol';
import type { Pin } from '#protocol';
import type { ReactionState, ReactionSummary, StoredChange, StoredMessage } from './changeFrames';
import type { TargetUpdate } from './changeKinds/kind';

export type { ReactionState, ReactionSummary };

/** The messages feature's stores: a room's history, sends (a message under its room's next seq), and changes. */

/**
 * Messages live until their TTL (`expiresAt`, MessageRetentionDays after sending). DynamoDB deletes an expired item
 * up to days later, so a read leaves out every message whose TTL is at or before `nowSeconds`.
 */
export interface MessageStore {
  /**
   * Live messages with seq > afterSeq in seq order, at most `limit`. `gaps`, when given, gets the seq of each gap
   * marker the read passed (a seq given up: core/gaps.ts), in the read's order; so do `latest`'s and `before`'s.
   */
  after(
    roomId: string,
    afterSeq: number,
    limit: number,
    nowSeconds: number,
    gaps?: number[],
  ): Promise<ChatMessage[]>;
  /** The newest `limit` live messages, returned in seq order. */
  latest(roomId: string, limit: number, nowSeconds: number, gaps?: number[]): Promise<ChatMessage[]>;
  /** The newest `limit` live messages before `beforeSeq`, returned in seq order. */
  before(
    roomId: string,
    beforeSeq: number,
    limit: number,
    nowSeconds: number,
    gaps?: number[],
  ): Promise<ChatMessage[]>;
  /** The room's pinned messages, oldest pin first (functions/pins/dynamoPins.ts). */
  pins(roomId: string): Promise<Pin[]>;
  /**
   * How the messages under these seqs read now, for the quotes of replies (at most 100 seqs): their text and whether
   * they were deleted. A seq that holds no live message (expired, a change) is not in the answer.
   */
  quoted(
    roomId: string,
    seqs: readonly number[],
    nowSeconds: number,
  ): Promise<Map<number, { text: string; deleted: boolean }>>;
  /** The reactions of these messages (their summaries) and the ones `viewer` (a memberKey) gave them. */
  reactions(roomId: string, seqs: readonly number[], viewer: string): Promise<Map<number, ReactionState>>;
}

/** A send with a clientMsgId as recorded with its message, keyed by room, username and clientMsgId. */
export interface SendRecord {
  sendKey: string;
  messageId: string;
  seq: number;
  sentAt: string;
}

/** The seq an append took from its room's counter, or why it took none (nothing was written). */
export type SeqTaken =
  /** `wakes`: the take found the room asleep: this event's publish wakes the room's fan-out (appending.ts). */
  | {
      kind: 'taken';
      seq: number;
      wakes: boolean;
      /** The room's slow mode as the take found it (seconds; 0: off), and whether the author is exempt from it. */
      slowModeSeconds?: number;
      exempt?: boolean;
      /** The room's own filtered words, read from its moderation item after the take (core/moderation.ts). */
      roomWords?: string[];
      /**
       * The room's name as the take's previous values hold it (null: the room has none); absent when the take read
       * no previous item (the lobby's, which is never named). The push function names the room by it (appending.ts).
       */
      roomName?: string | null;
    }
  /** The room expired or was closed (Room.ttl passed, or Room.closedAt set). */
  | { kind: 'roomGone'; room: Room }
  /** No such room (only the lobby's row appears with its first event). */
  | { kind: 'noRoom' }
  /**
   * The owner removed the name the author shows there (RoomLife.shownAs). `given`: the seq the take took before the
   * room's moderation item refused it (core/moderation.ts), to be given up (marked a gap; its wake, if it woke the room).
   */
  | { kind: 'removed'; given?: GivenUp }
  /** A moderator muted the author (RoomLife.memberKey) until `until` (epoch seconds; MUTED_FOREVER: until unmuted). */
  | { kind: 'muted'; until: number; given?: GivenUp };

/** A seq taken and refused after its take: to be marked a gap, and the room woken if the take found it asleep. */
interface GivenUp {
  seq: number;
  wakes: boolean;
}

/** A send's idempotency record as an attempt writes it: its key, the attempt (which alone moves it), when it expires. */
export interface NewSendRecord {
  sendKey: string;
  attempt: string;
  expiresAt: number;
}

/**
 * The send path's writes (docs/RELIABILITY.md, "The send path"): no transaction and no read of the room, so senders
 * of one room never wait for or conflict with each other. Each write is conditional, so any of them can be repeated
 * and a crash between two of them leaves what a retry with the same clientMsgId completes.
 */
export interface SendStore {
  /**
   * Takes the room's next seq with an atomic counter (`ADD seq :1`), only while the room lives (`life`), moving its
   * end on in the same write; `at` (epoch ms) is when, for the fan-out's bound on a seq never stored (core/gaps.ts).
   */
  takeSeq(roomId: string, at: number, life?: RoomLife): Promise<SeqTaken>;
  /**
   * Moves the room's counter up to `seq` if it is below (a room re-created after its item expired, whose stored
   * messages hold higher seqs), and the fan-out's cursor with it when it has none, so old messages are not posted.
   */
  raiseSeq(roomId: string, seq: number): Promise<void>;
  /** The highest seq stored in the room (messages, changes, gap markers), 0 for none. */
  newestSeq(roomId: string): Promise<number>;
  /** The record of a clientMsgId sent before, read strongly; undefined if none. */
  recorded(sendKey: string): Promise<SendRecord | undefined>;
  /**
   * Records the send under its key with the event's seq and messageId, only if the key is free: undefined when this
   * attempt recorded it, else the record found (the clientMsgId was sent before; nothing was written).
   */
  record(
    event: { seq: number; messageId: string; sentAt: string },
    record: NewSendRecord,
  ): Promise<SendRecord | undefined>;
  /** Moves this attempt's record to a new seq (its first seq was found occupied); false if it is not its own. */
  moveRecord(sendKey: string, attempt: string, from: number, to: number): Promise<boolean>;
  /**
   * Moves a record whose seq the fan-out fenced (a gap marker stands there: its attempt died before storing) to a
   * new seq and to this attempt, unless another attempt moved it first: false then.
   */
  takeOverRecord(sendKey: string, attempt: string, from: number, to: number): Promise<boolean>;
  /** Whether a gap marker stands under the seq (a seq given up: nothing will ever be stored there). */
  isGap(roomId: string, seq: number): Promise<boolean>;
  /** Stores the message under its seq if the seq is free: false when an item already holds it. */
  put(message: ChatMessage, expiresAt: number): Promise<boolean>;
  /** Marks a seq this attempt took and will never store as a gap, so history and the fan-out skip it at once. */
  markGap(roomId: string, seq: number, expiresAt: number): Promise<void>;
  /** The stored message under this seq, if any. */
  message(roomId: string, seq: number): Promise<ChatMessage | undefined>;
  /**
   * What a reply needs of the message it answers (an eventually consistent read, a few attributes): its author's
   * name and whether it was deleted; undefined when the seq holds no live message (never sent, a change, a gap,
   * past its retention at `nowSeconds`).
   */
  replyTarget(
    roomId: string,
    seq: number,
    nowSeconds: number,
  ): Promise<{ username: string; deleted: boolean } | undefined>;
}

/** The send path's template parameter (MessageRetentionDays): days a message is kept. */
export interface SendSettings {
  messageRetentionDays: number;
}

/** A use case's ports with the messages feature's stores (`Pick<MessagePorts, ...>`, as with ChatPorts). */
export interface MessagePorts extends ChatPorts {
  messages: MessageStore;
  sends: SendStore;
}

/** What a change does to its message's item, in the transaction that stores the change: changeKinds/kind.ts. */
export type { TargetUpdate };

/** One change, ready to store: the event under the seq it took, and the message's item as the event leaves it. */
export interface PlannedChange {
  event: StoredChange;
  expiresAt: number;
  /** The message's `changeSeq` as read: the update applies only if no other change came first. */
  readChangeSeq: number | undefined;
  /** What the change does to the message's item (a reaction: nothing, its state is in the Reactions table). */
  update: TargetUpdate | undefined;
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
  | { kind: 'conflict' }
  /** A pin's write found the room's pins at CHANGE_LIMITS.pinsPerRoom (another pin came first). */
  | { kind: 'pinsFull' };

export interface ChangeStore {
  /** The item under this seq of the room (a message or a change), read strongly consistent. */
  item(roomId: string, seq: number): Promise<StoredMessage | StoredChange | undefined>;
  /** The room's pins, oldest first (none: an empty list). */
  pins(roomId: string): Promise<Pin[]>;
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
 * Reactions, one small item per message and member plus a summary per message (messages/dynamoReactions.ts), so that
 * many members react to one message at once: each write is a single-item update, never a transaction.
 */
export interface ReactionStore {
  /** The message's summary and the member's reactions, read strongly consistent. */
  state(target: ReactionTarget, memberKey: string): Promise<ReactionState>;
  /** Records the member's reaction: `already` if it gave it, `memberLimit` at reactionKindsPerMember. */
  give(target: ReactionTarget, memberKey: string, reaction: string, ttl: number): Promise<GiveOutcome>;
  /** Takes the member's reaction back: false if it had not given it. */
  takeBack(target: ReactionTarget, memberKey: string, reaction: string): Promise<boolean>;
  /**
   * Counts a reaction given (1) or taken back (-1), refused at the message's caps (adding only). `name` (the giver as
   * shown in the room) is named on the reaction while it has at most CHANGE_LIMITS.reactorsNamed givers, and a
   * take-back unnames it.
   */
  count(
    target: ReactionTarget,
    reaction: string,
    delta: 1 | -1,
    ttl: number,
    name: string,
  ): Promise<CountOutcome>;
  /** Marks reaction event `seq` as counted (lastSeq only moves up) and returns the summary as it then stands. */
  mark(target: ReactionTarget, seq: number): Promise<ReactionSummary>;
  /**
   * Counts one more of a source's connections giving `reaction` (`sourceKey`: hashed), unless that would take the
   * kinds the source gives the message past `cap`: false then, nothing counted.
   */
  holdKind(
    target: ReactionTarget,
    sourceKey: string,
    reaction: string,
    cap: number,
    ttl: number,
  ): Promise<boolean>;
  /** Counts one fewer of the source's connections giving `reaction`; the kind leaves at none. */
  releaseKind(target: ReactionTarget, sourceKey: string, reaction: string): Promise<void>;
}
