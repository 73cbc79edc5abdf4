import type { Connection, Room } from '#core/ports';
import type { ChangeEvent, ChangeFrame, ChatMessage, MessageFrame, Pin } from '#protocol';

/**
 * What one kind of change to a message is, one module per kind (edit.ts, delete.ts, react.ts; a feature's own kind in
 * its folder, as functions/pins/pin.ts) gathered under its protocol action by index.ts: the frame it reads, the rule
 * it applies, what it does to the stored message, the event members get, what the message's frame shows of it and
 * what the room's moderation log keeps. The use case (changing.ts), the store
 * (dynamoChanges.ts) and the frames (changeFrames.ts) read the kinds from the registry, so a new kind is a new module
 * here and its line in index.ts. The kinds import nothing of messages/ but this module and changeErrors.ts, so no
 * module that uses the registry is imported back (tests/build/shape.test.ts: no cycle).
 */
export interface ChangeKind<Request extends { kind: string }> {
  /** Its name in a request (`request.kind`) and the logs. */
  kind: Request['kind'];
  /** The event's `type` (`change` on its stored item). */
  event: ChangeFrame['type'];
  /** The request as read from the frame; a bad field is a BadRequest. */
  parse(body: Record<string, unknown>): Request;
  /** The rule, on the message as read (never deleted unless `onDeleted`), and the change it makes. */
  plan(message: StoredMessage, request: Request, context: PlanContext): Plan;
  /** True when the kind may be asked of a deleted message (its rule decides); otherwise it is MESSAGE_DELETED. */
  onDeleted?: boolean;
  /** The frame members get, from the event's stored item (`common`: the fields every change event has). */
  frame(item: StoredChange, common: ChangeEvent): ChangeFrame;
  /** What the stored message shows of this kind in its frame (`history`, `joined`, `changed`). */
  shown(message: StoredMessage): Partial<MessageFrame>;
  /** The room's moderation log's action for this event (changeAudit.ts); absent or undefined: no row. */
  audited?(event: EventFields): string | undefined;
  /** What one change of this kind stores, as the cost model prices it (`npm run cost`, tools/cost/changes.ts). */
  cost: ChangeCost;
}

/**
 * The items one change writes beside its event, as `npm run cost` prices them (tools/cost/changes.ts reads every
 * kind's): a required field, so tsc refuses a kind the cost model could not price. Sizes are the kind's own
 * additions; the model adds a message item's overhead and the priced message's text.
 */
interface ChangeCost {
  /** Its row in the cost table, with the state it is priced in (as `pin (in a room with 25)`). */
  name: string;
  /** The message's item as the transaction rewrites it: whether it keeps its text, and the bytes the kind adds. */
  message: { text: boolean; addedBytes: number };
  /** Whether the event's item carries the message's text (an edit's does). */
  eventText: boolean;
  /** Another item the change reads strongly consistent and rewrites in its transaction (a pin's room pins item). */
  sideItemBytes?: number;
}

/** A message's reactions in all: members per reaction (none at 0), their total, the last reaction event counted. */
export interface ReactionSummary {
  counts: Record<string, number>;
  total: number;
  /** The highest reaction event's seq whose effect `counts` holds (every lower one's too): its `changeSeq`. */
  lastSeq: number;
  /** reaction -> the names of its givers named (CHANGE_LIMITS.reactorsNamed at most); absent: none named. */
  names?: Record<string, string[]>;
}
/** A message's reactions as one member sees them: the summary (absent: none yet) and the ones it gave. */
export interface ReactionState {
  summary: ReactionSummary | undefined;
  given: string[];
}

/** A message's item with what only the server reads. */
export interface StoredMessage extends ChatMessage {
  /** The author's key in its room (memberKey); absent on messages stored before authors were kept: nobody edits those. */
  authorKey?: string;
  /**
   * Who wrote it, as its sends are scoped (sending.ts senderOf: the signed-in user, else the resume token's hash, else
   * the connection): what a block or report names (functions/safety/). Never in a frame.
   */
  authorId?: string;
  /** Set by its first reaction: `history` reads the reactions of these messages only. */
  reacted?: boolean;
  /** Its reactions as read from the Reactions table for one member (never stored on the item). */
  reactionState?: ReactionState;
  /** The seqs of this message's edit events, oldest first. */
  editSeqs?: number[];
  /** The keys in the room (memberKey) of the members it names (`mentions`): their unread mention counts. */
  mentionKeys?: string[];
  /** Its author's signed-in user id: whom a reply in its thread tells (functions/threads/threads.ts); never shown. */
  authorUser?: string;
  /** DynamoDB's TTL attribute (epoch seconds), as read back by the changes' own reads. */
  ttl?: number;
}

/**
 * A change's item: the fields of the frame every member gets, whose `type` is `change`, and the event's own fields
 * (those of the kinds today named; a new kind's are read by its `frame` as what they are, unknown until checked).
 */
export interface StoredChange extends ChangeEvent, EventFields {
  change: ChangeFrame['type'];
  text?: string;
  /** An edit's text was removed when its message was deleted. */
  scrubbed?: boolean;
  by?: 'author' | 'owner' | 'moderator';
  reaction?: string;
  added?: boolean;
  count?: number;
}

/** The stored message's attributes a change may write (never its key, author or TTL). */
type Writable = Omit<
  StoredMessage,
  'roomId' | 'seq' | 'messageId' | 'authorKey' | 'authorId' | 'ttl' | 'reactionState'
>;

/**
 * What a change does to the message's item, in one transaction with its event (dynamoChanges.ts): attributes set
 * and removed, the event's seq appended to a list of them (`appendSeq`), and earlier edit events whose text goes
 * (`scrub`). `undefined` (a reaction): the message's item is not written, its state is kept elsewhere.
 */
export interface TargetUpdate {
  set?: Partial<Writable>;
  remove?: (keyof Writable)[];
  appendSeq?: 'editSeqs';
  scrub?: number[];
  /** The room's pins item (dynamoChanges.ts), in the same transaction: a pin added (under the room's cap) or removed. */
  pins?: { add: Pin } | { remove: number };
}

/** Who asks, as the rules need it: its key in the room, and whether it owns the room. */
export interface Changer {
  connection: Connection;
  key: string;
  room: Room | undefined;
  /** For a pin: how many messages the room has pinned, as read. */
  pinCount?: number;
}

/** What a kind's rule reads besides the message and the request. */
export interface PlanContext {
  changer: Changer;
  now: Date;
  /** Whether the asker wrote the message (its memberKey is the message's authorKey). */
  isAuthor: boolean;
  /** Whether the edit window is still open for this message. */
  inWindow: boolean;
  /** The window's length in minutes, for a refusal. */
  windowMinutes: number;
  /** The message's reactions as the asker sees them (none read: no summary, none given). */
  reactions: ReactionState;
}

/** An event's own fields, stored on its item as they are. */
interface EventFields {
  [field: string]: unknown;
}

/** The update and the event's own fields, or `unchanged` when the message is already as asked. */
export type Plan =
  | { kind: 'unchanged' }
  | { kind: 'change'; update: TargetUpdate | undefined; event: EventFields };

export const UNCHANGED: Plan = { kind: 'unchanged' };
