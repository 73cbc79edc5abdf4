import { randomUUID } from 'node:crypto';
import { MessageNotFound } from '#core/changeErrors';
import { isGapMarker } from '#core/gaps';
import type { PersonGate } from '#core/limits/personRate';
import type { Connection, RoomLife } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { epochSeconds, roomTtl } from '#core/roomLife';
import { settings } from '#platform/settings';
import type { ChangedFrame } from '#protocol';
import { publishStored, sendRecordOf, type WakeBy } from './appending';
import type { ChangeAudit } from './changeAudit';
import {
  changeFrameOf,
  isStoredChange,
  messageFrameOf,
  type StoredChange,
  type StoredMessage,
} from './changeFrames';
import type { ChangeHook } from './changeHooks';
import { kindOf } from './changeKinds';
import { type ChangeRequest, type Changer, type Plan, planChange } from './changePlanning';
import type {
  ChangeStore,
  MessagePorts,
  PlannedChange,
  ReactionStore,
  SendRecord,
  SendSettings,
} from './ports';

/**
 * What every change of a message shares, edits and deletes (changing.ts) and reactions (reacting.ts): the change as
 * read, the rules applied to it (planOrAnswer), its event and write, the replies (a retry's first reply included) and
 * its publishing through the fan-out.
 */

/** Exported for tests: the port changeConflicts.test.ts builds over real tables. */
export type ChangeDeps = Pick<MessagePorts, 'connections' | 'rooms' | 'sends' | 'events' | 'now'> &
  SendSettings &
  ChangeAudit & {
    changes: ChangeStore;
    reactions: ReactionStore;
    editWindowMinutes: number;
    /** The changer's budgets across its connections (personRate.ts); absent: only the connection's own. */
    person?: PersonGate;
    /**
     * Without sign-in, the kinds of reaction the connections of one source give one message in all
     * (ReactionKindsPerSource); 0 or absent: no cap but each member's.
     */
    reactionKindsPerSource?: number;
    /** The features a stored change tells (changeHooks.ts; changeFeatures.ts lists them); absent: none. */
    changeHooks?: readonly ChangeHook[];
    /**
     * Lets a change in a direct-message room through or throws, as a send (functions/safety/screening.ts): where
     * either of the pair blocks the other, an edit, reaction or pin would reach the blocker; a delete only takes away
     * and is let through. Absent: not checked.
     */
    admitDirect?: (changer: Connection) => Promise<void>;
  };

export interface ChangeInput {
  connectionId: string;
  /** The seq of the message to change. */
  seq: number;
  request: ChangeRequest;
  clientMsgId?: string;
  signal?: AbortSignal;
  admitLobbyPost?: () => Promise<void>;
  /** The changer's address: without sign-in, its source is whose budgets the change takes from (limitOwner). */
  sourceIp?: string;
}

/** What a member whose change is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The change was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

/** One change as read: who asks, in which room, when, and the attempt's id (the attempt its record names). */
export interface Change {
  input: ChangeInput;
  roomId: string;
  changer: Changer;
  sendKey: string | undefined;
  attempt: string;
  now: Date;
}

/** What the transaction is held to: the message as last read. */
export interface Read {
  message: StoredMessage | undefined;
}

/** A change the rules let through, with the message they were applied to. */
interface Planned {
  message: StoredMessage;
  plan: Extract<Plan, { kind: 'change' }>;
}

/**
 * Tries one change may make: each lost compare-and-set on the message (another change to it came first) means that
 * change was stored, so the message progresses; with k changes racing on one message the last loses k - 1 times. A
 * transaction conflict (another transaction holds one of the message's items) is tried a few times after a pause.
 */
export const MAX_TRIES = 50;
export const MAX_CONFLICTS = 6;

/**
 * A change is activity: the write that takes its seq moves the room's end on by RoomIdleDays, read from the settings
 * in force (the lobby never ends), and refuses a room that has ended.
 */
export function roomLifeOf(change: Change): RoomLife | undefined {
  if (change.roomId === LOBBY) return undefined;
  const { connection, key } = change.changer;
  return {
    nowSeconds: epochSeconds(change.now),
    ttl: roomTtl(change.now, settings().RoomIdleDays),
    shownAs: connection.username,
    memberKey: key,
    userId: connection.userId,
    ...(change.input.request.kind === 'edit' && { text: change.input.request.text }), // the room's own list meets it (appending.ts)
  };
}

/** The reply to a change that finds the message already as asked: its first reply if recorded, else the message. */
export async function answerAsIs(deps: ChangeDeps, change: Change): Promise<ChangedFrame> {
  const record = change.sendKey ? await deps.changes.record(change.sendKey) : undefined;
  if (record) return answerRecorded(deps, change, record);
  const message = await liveMessage(deps.changes, change.roomId, change.input.seq, change.now);
  if (!message) throw new MessageNotFound(`There is no message ${change.input.seq} in this room.`);
  return reply(change, await withReactions(deps, change, message));
}

/**
 * The rules applied to the message as read (planning.ts), or the reply when there is nothing to store: the message
 * is already as asked, or a retry whose first attempt changed it finds it changed (its first reply, not a refusal).
 */
export async function planOrAnswer(
  deps: ChangeDeps,
  change: Change,
  message: StoredMessage | undefined,
): Promise<Planned | ChangedFrame> {
  const { input, sendKey } = change;
  let plan: Plan;
  try {
    if (!message) throw new MessageNotFound(`There is no message ${input.seq} in this room.`);
    plan = planChange(
      message,
      input.request,
      change.changer,
      change.now,
      deps.editWindowMinutes * 60_000,
      message.reactionState,
    );
  } catch (refusal) {
    const record = sendKey ? await deps.changes.record(sendKey) : undefined;
    if (record) return answerRecorded(deps, change, record);
    throw refusal;
  }
  if (plan.kind === 'change') return { message, plan };
  const record = sendKey ? await deps.changes.record(sendKey) : undefined;
  return record ? answerRecorded(deps, change, record) : reply(change, message);
}

/** The change as a room event under the seq it took. */
export function eventOf(change: Change, seq: number, plan: Planned['plan']): StoredChange {
  const { request } = change.input;
  return {
    change: kindOf(request).event,
    roomId: change.roomId,
    seq,
    messageId: randomUUID(),
    username: change.changer.connection.username,
    sentAt: change.now.toISOString(),
    targetSeq: change.input.seq,
    ...plan.event,
  };
}

/** The transaction's write: held to the message's changeSeq as read. */
export function writeOf(
  change: Change,
  event: StoredChange,
  expiresAt: number,
  { message, plan }: Planned,
): PlannedChange {
  return {
    event,
    expiresAt,
    readChangeSeq: message.changeSeq,
    update: plan.update,
    record: change.sendKey ? sendRecordOf(change.sendKey, change.attempt, change.now) : undefined,
  };
}

export function reply(change: Change, message: StoredMessage, seq?: number): ChangedFrame {
  const { roomId, input } = change;
  return {
    type: 'changed',
    roomId,
    ...(seq !== undefined && { seq }),
    ...(input.clientMsgId && { clientMsgId: input.clientMsgId }),
    message: messageFrameOf(message),
  };
}

/**
 * A clientMsgId's first change, answered again: its reply, and its stored event published again (its first attempt
 * may have failed or died before its PutEvents; the fan-out queue keeps one of the two: appending.ts publishStored).
 */
export async function answerRecorded(
  deps: ChangeDeps,
  change: Change,
  record: SendRecord,
): Promise<ChangedFrame> {
  const { roomId, input } = change;
  const [message, event] = await Promise.all([
    liveMessage(deps.changes, roomId, input.seq, change.now),
    deps.changes.item(roomId, record.seq),
  ]);
  if (event && isStoredChange(event)) await publish(deps, event, { retry: true });
  if (!message) throw new MessageNotFound(`There is no message ${input.seq} in this room.`);
  return reply(change, await withReactions(deps, change, message), record.seq);
}

/** For a reaction's reply: the message with its reactions as the member sees them now. */
async function withReactions(
  deps: ChangeDeps,
  change: Change,
  message: StoredMessage,
): Promise<StoredMessage> {
  if (change.input.request.kind !== 'react') return message;
  const target = { roomId: change.roomId, seq: change.input.seq };
  return { ...message, reactionState: await deps.reactions.state(target, change.changer.key) };
}

/** The item as a live message: not a change nor a gap, and not past its TTL (which DynamoDB applies late). */
export function asMessage(
  item: StoredMessage | StoredChange | undefined,
  now: Date,
): StoredMessage | undefined {
  // A gap marker (core/gaps.ts) holds no message either.
  if (!item || isStoredChange(item) || isGapMarker(item)) return undefined;
  if (item.ttl !== undefined && item.ttl <= epochSeconds(now)) return undefined;
  return item;
}

export async function liveMessage(changes: ChangeStore, roomId: string, seq: number, now: Date) {
  return asMessage(await changes.item(roomId, seq), now);
}

/** Publishes the change as a room event (on failure the member is told to retry with its clientMsgId, which publishes). */
export function publish(deps: ChangeDeps, event: StoredChange, by: WakeBy): Promise<void> {
  const { messageId, roomId, seq } = event;
  return publishStored(deps, { messageId, roomId, seq, frame: changeFrameOf(event) }, STORED_NOT_SENT, by);
}
