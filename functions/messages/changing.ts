import { randomUUID } from 'node:crypto';
import { orBusy } from '#core/busy';
import { MessageNotFound } from '#core/changeErrors';
import { Busy, Muted, RoomClosed, RoomNotFound } from '#core/errors';
import { isGapMarker } from '#core/gaps';
import { requireConnection } from '#core/identity/connections';
import { type PersonGate, refuseKnownEmpty, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { takeMessageToken, takeSendToken } from '#core/limits/rateLimit';
import { memberKey, senderOf } from '#core/memberKeys';
import { mutedUntil, untilText } from '#core/moderation';
import type { Connection, RoomLife } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { epochSeconds, roomEnd, roomTtl } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { type ChangedFrame, DM_ROOM_CODE_LENGTH, REACTION_RATE } from '#protocol';
import type { WordIndex } from '#search/ports';
import { reindex } from '#search/searching';
import {
  catchUp,
  publishStored,
  sendRecordOf,
  type Taken,
  Takes,
  takeRoomSeq,
  type WakeBy,
} from './appending';
import { auditChange, type ChangeAudit } from './changeAudit';
import {
  applied,
  changeFrameOf,
  isStoredChange,
  messageFrameOf,
  type StoredChange,
  type StoredMessage,
} from './changeFrames';
import { kindOf, pinsLimit } from './changeKinds';
import { type ChangeRequest, type Changer, type Plan, planChange } from './changePlanning';
import type {
  ChangeStore,
  MessagePorts,
  PlannedChange,
  ReactionState,
  ReactionStore,
  SendRecord,
  SendSettings,
} from './ports';
import { holdReaction } from './reacting';

/**
 * Changing a message (edit, delete, reaction): the change is a room event under a seq taken from the room's counter
 * as a send takes one, and published through the same fan-out, so it reaches members in seq order, coalesced in a
 * busy room, and `history` gives it to one who was away. With a clientMsgId a retry gets the first reply. An edit or
 * a delete is stored in one transaction with the message's new state (the room's item is not in it)
 * (docs/RELIABILITY.md, "The send path"); a reaction is kept in the Reactions table instead (storeReaction), so that
 * many members react to one message at once.
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
    /** Search's word index: an edit rewrites the message's entries, a delete removes them (search/searching.ts reindex). */
    words?: WordIndex;
    /**
     * Lets a change in a direct-message room through or throws, as a send (functions/safety/screening.ts): where
     * either of the pair blocks the other, an edit, reaction or pin would reach the blocker; a delete only takes away
     * and is let through. Absent: not checked.
     */
    admitDirect?: (changer: Connection) => Promise<void>;
  };

interface ChangeInput {
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
interface Change {
  input: ChangeInput;
  roomId: string;
  changer: Changer;
  sendKey: string | undefined;
  attempt: string;
  now: Date;
}

/** What the transaction is held to: the message as last read. */
interface Read {
  message: StoredMessage | undefined;
}

/** A change the rules let through, with the message they were applied to. */
interface Planned {
  message: StoredMessage;
  plan: Extract<Plan, { kind: 'change' }>;
}

export async function changeMessage(deps: ChangeDeps, input: ChangeInput): Promise<ChangedFrame> {
  const { change, read } = await readChange(deps, input);
  return input.request.kind === 'react' ? storeReaction(deps, change, read) : storeChange(deps, change, read);
}

/** Reads the connection, then the room and the message at once (taking a send token); refuses a room gone or ended. */
async function readChange(deps: ChangeDeps, input: ChangeInput): Promise<{ change: Change; read: Read }> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) await input.admitLobbyPost?.();
  const sender = senderOf(connection);
  const attempt = randomUUID();
  const now = deps.now();
  const key = memberKey(roomId, sender);
  const reacting = input.request.kind === 'react';
  // A pin reads the room's pins too, to refuse one past the cap before a seq is taken.
  const pinning = input.request.kind === 'pin' && roomId !== LOBBY;
  const owner = limitOwner(connection.userId, input.sourceIp);
  // One read of the pair's blocks item, for a direct message's change that adds something only.
  const direct = roomId.length === DM_ROOM_CODE_LENGTH && input.request.kind !== 'delete';
  const connectionToken = () =>
    reacting
      ? takeSendToken(deps.connections, connection, REACTION_RATE, now.getTime(), 'react')
      : takeMessageToken(deps.connections, connection, now.getTime());
  // A person's bucket this environment knows is still empty: refused before any read (personRate.ts).
  await refuseKnownEmpty(deps.person, reacting ? 'react' : 'send', owner, connectionToken);
  const [room, item, , , reactions, pins] = await Promise.all([
    deps.rooms.get(roomId),
    deps.changes.item(roomId, input.seq),
    connectionToken(),
    // The person's budget beside the connection's: ten connections of one member share one (personRate.ts).
    takePersonToken(deps.person, reacting ? 'react' : 'send', owner),
    reacting ? deps.reactions.state({ roomId, seq: input.seq }, key) : undefined,
    pinning ? deps.changes.pins(roomId) : undefined,
    direct ? deps.admitDirect?.(connection) : undefined,
  ]);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const end = room && roomId !== LOBBY ? roomEnd(room, now) : undefined;
  if (end) throw new RoomClosed(roomId, end);
  // A muted member changes nothing (core/moderation.ts): refused on the room as read, before a reaction is written;
  // the seq's take holds the same condition for an edit or delete that races the mute.
  const muted = mutedUntil(room, key, epochSeconds(now));
  if (muted !== undefined) throw new Muted(roomId, untilText(muted));
  const change: Change = {
    input,
    roomId,
    changer: { connection, key, room, ...(pins && { pinCount: pins.length }) },
    sendKey: input.clientMsgId ? `${roomId}#${sender}#${input.clientMsgId}` : undefined,
    attempt,
    now,
  };
  const message = asMessage(item, now);
  return {
    change,
    read: { message: message && reactions ? { ...message, reactionState: reactions } : message },
  };
}

/**
 * Tries one change may make: each lost compare-and-set on the message (another change to it came first) means that
 * change was stored, so the message progresses; with k changes racing on one message the last loses k - 1 times. A
 * transaction conflict (another transaction holds one of the message's items) is tried a few times after a pause.
 */
const MAX_TRIES = 50;
const MAX_CONFLICTS = 6;

/**
 * Plans the change on the message as read and stores it under a seq taken from the room's counter (appending.ts):
 * the seq is taken once the rules let the change through, and kept across the message's compare-and-set races (the
 * message read again) and transaction conflicts (after a pause). A seq taken and then not used (the change turned
 * out refused or already made, a retry of a recorded change, out of tries) is marked as a gap at once.
 */
async function storeChange(deps: ChangeDeps, change: Change, read: Read): Promise<ChangedFrame> {
  const { roomId } = change;
  const liveTarget = () => liveMessage(deps.changes, roomId, change.input.seq, change.now);
  const expiresAt = epochSeconds(change.now) + deps.messageRetentionDays * 86400;
  const life = roomLifeOf(change);
  let taken: Taken | undefined;
  const takes = new Takes(deps, roomId);
  let conflicts = 0;
  const unused = async () => {
    if (taken !== undefined) await orBusy(deps.sends.markGap(roomId, taken.seq, expiresAt), roomId);
    taken = undefined;
    await takes.unstored();
  };
  try {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const planned = await planOrAnswer(deps, change, read.message);
      if (!('plan' in planned)) {
        await unused();
        return planned;
      }
      if (taken === undefined) {
        if (change.input.signal?.aborted) throw new Busy();
        taken = takes.note(await takeRoomSeq(deps, roomId, change.now, life, expiresAt));
      }
      const event = eventOf(change, taken.seq, planned.plan);
      const outcome = await orBusy(deps.changes.apply(writeOf(change, event, expiresAt, planned)), roomId);
      switch (outcome.kind) {
        case 'stored': {
          const by = { taken };
          taken = undefined;
          takes.published();
          const after = applied(planned.message, event, planned.plan.update);
          await Promise.all([
            publish(deps, event, by),
            reindexed(deps, planned.message, after),
            auditChange(deps, change.input.request.kind, planned, change.changer, change.now),
          ]);
          return reply(change, after, event.seq);
        }
        case 'sentBefore':
          await unused();
          return answerRecorded(deps, change, outcome.record);
        case 'seqOccupied':
          // The seq holds an older event (not a gap): the counter moves past the stored events, and a new seq is taken.
          taken = undefined;
          await catchUp(deps, roomId);
          break;
        case 'targetChanged':
          read.message = await liveTarget();
          break;
        case 'pinsFull':
          throw pinsLimit();
        case 'conflict':
          if (++conflicts > MAX_CONFLICTS) {
            logger.warn('answered busy: the message stayed held by other transactions', {
              roomId,
              conflicts,
            });
            throw new Busy('transaction-conflicts');
          }
          await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20 * conflicts));
          read.message = await liveTarget();
      }
    }
    throw new Busy('transaction-conflicts');
  } catch (error) {
    await unused().catch((cause: unknown) =>
      logger.warn('a seq taken for a change was not marked a gap', { roomId, seq: taken?.seq, cause }),
    );
    throw error;
  }
}

/**
 * A change is activity: the write that takes its seq moves the room's end on by RoomIdleDays, read from the settings
 * in force (the lobby never ends), and refuses a room that has ended.
 */
function roomLifeOf(change: Change): RoomLife | undefined {
  if (change.roomId === LOBBY) return undefined;
  const { connection, key } = change.changer;
  return {
    nowSeconds: epochSeconds(change.now),
    ttl: roomTtl(change.now, settings().RoomIdleDays),
    shownAs: connection.username,
    memberKey: key,
    userId: connection.userId,
    ...(change.input.request.kind === 'edit' && { text: change.input.request.text }), // the room's words meet it
  };
}

/**
 * A reaction, written so that many members can react to one message at once: no write touches the message's item
 * or another member's, and none is a transaction (messages/dynamoReactions.ts). In this order:
 * 1. the member's own item (`give` / `takeBack`): idempotent, so a repeat or a retry changes nothing;
 * 2. the message's summary (`count`: ADD, under the caps); 1 and 2 are reacting.ts holdReaction;
 * 3. the seq, taken from the room's counter only now;
 * 4. `mark`: the summary's lastSeq moves up to that seq, returning the counts.
 * Every reaction counted before a seq was taken is in the counts `mark` returns for it (its count went in before its
 * own seq, which is below this one, was taken), so the event with the highest seq of a reaction carries its final
 * count, and a message read with `changeSeq` = lastSeq holds the effect of every reaction event up to it: a client
 * applying events above `changeSeq` with their counts (client/messages.ts) ends at the right count.
 * Then the event is stored (with the send record) and published as any change. A seq taken and not stored is a gap.
 */
async function storeReaction(deps: ChangeDeps, change: Change, read: Read): Promise<ChangedFrame> {
  const { roomId, input } = change;
  const request = input.request as Extract<ChangeRequest, { kind: 'react' }>;
  const planned = await planOrAnswer(deps, change, read.message);
  if (!('plan' in planned)) return planned;
  const { message, plan } = planned;
  const target = { roomId, seq: message.seq };
  const expiresAt = epochSeconds(change.now) + deps.messageRetentionDays * 86400;
  const held = await holdReaction(deps, {
    message,
    key: change.changer.key,
    name: change.changer.connection.username,
    reaction: request.reaction,
    remove: request.remove,
    owner: limitOwner(change.changer.connection.userId, input.sourceIp),
    cap: deps.reactionKindsPerSource ?? 0,
    ttl: message.ttl ?? expiresAt, // a reaction's items go when their message goes
  });
  // Given (or taken back) by a racing attempt of the same member: its reply, as planOrAnswer answers a repeat.
  if (held === 'already') return answerAsIs(deps, change);
  const mine = request.remove
    ? (message.reactionState?.given ?? []).filter((r) => r !== request.reaction)
    : [...(message.reactionState?.given ?? []), request.reaction];
  const life = roomLifeOf(change);
  let taken: Taken | undefined;
  const takes = new Takes(deps, roomId);
  let conflicts = 0;
  try {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      if (taken === undefined) {
        if (input.signal?.aborted) throw new Busy();
        taken = takes.note(await takeRoomSeq(deps, roomId, change.now, life, expiresAt));
      }
      const summary = await orBusy(deps.reactions.mark(target, taken.seq), roomId);
      const event = eventOf(change, taken.seq, {
        ...plan,
        event: { ...plan.event, count: summary.counts[request.reaction] ?? 0 },
      });
      const outcome = await orBusy(deps.changes.apply(writeOf(change, event, expiresAt, planned)), roomId);
      if (outcome.kind === 'stored') {
        const by = { taken };
        taken = undefined;
        takes.published();
        await publish(deps, event, by);
        const reactionState: ReactionState = { summary, given: mine };
        return reply(change, { ...message, reactionState }, event.seq);
      }
      if (outcome.kind === 'sentBefore') {
        await orBusy(deps.sends.markGap(roomId, taken.seq, expiresAt), roomId);
        taken = undefined;
        await takes.unstored();
        return answerRecorded(deps, change, outcome.record);
      }
      if (outcome.kind === 'seqOccupied') {
        taken = undefined;
        await catchUp(deps, roomId);
      } else if (++conflicts > MAX_CONFLICTS) throw new Busy('transaction-conflicts');
      else await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20 * conflicts));
    }
    throw new Busy('transaction-conflicts');
  } catch (error) {
    // The reaction stays given and counted (a retry finds it so); only its event is missing, and the seq is a gap.
    const seq = taken?.seq;
    if (seq !== undefined)
      await orBusy(deps.sends.markGap(roomId, seq, expiresAt), roomId).catch((cause: unknown) =>
        logger.warn('a seq taken for a reaction was not marked a gap', { roomId, seq, cause }),
      );
    await takes.unstored();
    throw error;
  }
}

/** The reply to a change that finds the message already as asked: its first reply if recorded, else the message. */
async function answerAsIs(deps: ChangeDeps, change: Change): Promise<ChangedFrame> {
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
async function planOrAnswer(
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
function eventOf(change: Change, seq: number, plan: Planned['plan']): StoredChange {
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
function writeOf(
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

function reply(change: Change, message: StoredMessage, seq?: number): ChangedFrame {
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
async function answerRecorded(deps: ChangeDeps, change: Change, record: SendRecord): Promise<ChangedFrame> {
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
function asMessage(item: StoredMessage | StoredChange | undefined, now: Date): StoredMessage | undefined {
  // A gap marker (core/gaps.ts) holds no message either.
  if (!item || isStoredChange(item) || isGapMarker(item)) return undefined;
  if (item.ttl !== undefined && item.ttl <= epochSeconds(now)) return undefined;
  return item;
}

async function liveMessage(changes: ChangeStore, roomId: string, seq: number, now: Date) {
  return asMessage(await changes.item(roomId, seq), now);
}

/** The message's words in the index as the change leaves its text (a reaction or a pin changes none). */
function reindexed(deps: ChangeDeps, before: StoredMessage, after: StoredMessage): Promise<void> {
  const textOf = (m: StoredMessage) => (m.deleted ? undefined : m.text);
  if (textOf(before) === textOf(after)) return Promise.resolve();
  const ttl = epochSeconds(new Date(before.sentAt)) + deps.messageRetentionDays * 86400;
  return reindex(deps.words, before, textOf(before), textOf(after), ttl);
}

/** Publishes the change as a room event (on failure the member is told to retry with its clientMsgId, which publishes). */
function publish(deps: ChangeDeps, event: StoredChange, by: WakeBy): Promise<void> {
  const { messageId, roomId, seq } = event;
  return publishStored(deps, { messageId, roomId, seq, frame: changeFrameOf(event) }, STORED_NOT_SENT, by);
}
