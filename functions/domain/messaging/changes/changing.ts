import { randomUUID } from 'node:crypto';
import type { ChangedFrame } from '../../../../protocol';
import { Busy, RoomClosed, RoomNotFound } from '../../../platform/errors';
import { LOBBY } from '../../../platform/protocol';
import { requireConnection } from '../../identity/connections';
import { takeSendToken } from '../../limits/rateLimit';
import type { ChatPorts, SendRecord, SendSettings } from '../../ports';
import { epochSeconds, roomEnd, roomTtl } from '../../rooms/roomLife';
import { AppendTries, publishStored, sendRecordOf, takesPublishing } from '../appending';
import { MessageNotFound } from './errors';
import {
  changeFrameOf,
  isStoredChange,
  memberKey,
  messageFrameOf,
  type StoredChange,
  type StoredMessage,
  senderOf,
} from './frames';
import { type ChangeRequest, type Changer, type Plan, planChange } from './planning';
import type { ChangeStore, PlannedChange, TargetUpdate } from './ports';

/**
 * Changing a message (edit, delete, reaction): the change is a room event stored under the room's next seq in one
 * transaction with the message's new state, as a send stores a message (docs/RELIABILITY.md, "The send path"), and
 * published through the same fan-out, so it reaches members in seq order, coalesced in a busy room, and `history`
 * gives it to one who was away. With a clientMsgId a retry gets the first reply.
 */

export type ChangeDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'sends' | 'events' | 'now'> &
  SendSettings & { changes: ChangeStore; editWindowMinutes: number };

export interface ChangeInput {
  connectionId: string;
  /** The seq of the message to change. */
  seq: number;
  request: ChangeRequest;
  clientMsgId?: string;
  signal?: AbortSignal;
  admitLobbyPost?: () => Promise<void>;
  /** When this invocation ends (epoch ms): the send record's publishUntil. */
  deadline?: number;
}

/** What a member whose change is stored but not yet on the bus can do about it. */
const STORED_NOT_SENT =
  'The change was stored but could not be sent to the room yet. Retry with the same clientMsgId.';

/** One change as read: who asks, in which room, when, and the attempt's id (the publisher its record names). */
interface Change {
  input: ChangeInput;
  roomId: string;
  changer: Changer;
  sendKey: string | undefined;
  attempt: string;
  now: Date;
}

/** What the transaction is held to: the room's seq and the message as last read. */
interface Read {
  roomSeq: number | undefined;
  message: StoredMessage | undefined;
}

/** A change the rules let through, with the message they were applied to. */
interface Planned {
  message: StoredMessage;
  plan: Extract<Plan, { kind: 'change' }>;
}

export async function changeMessage(deps: ChangeDeps, input: ChangeInput): Promise<ChangedFrame> {
  const { change, read } = await readChange(deps, input);
  return storeChange(deps, change, read);
}

/** Reads the connection, then the room and the message at once (taking a send token); refuses a room gone or ended. */
async function readChange(deps: ChangeDeps, input: ChangeInput): Promise<{ change: Change; read: Read }> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) await input.admitLobbyPost?.();
  const sender = senderOf(connection);
  const attempt = randomUUID();
  const now = deps.now();
  const [room, item] = await Promise.all([
    deps.rooms.get(roomId),
    deps.changes.item(roomId, input.seq),
    deps.sendRate && takeSendToken(deps.connections, connection, deps.sendRate, now.getTime()),
  ]);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const end = room && roomId !== LOBBY ? roomEnd(room, now) : undefined;
  if (end) throw new RoomClosed(roomId, end);
  const change: Change = {
    input,
    roomId,
    changer: { connection, key: memberKey(roomId, sender), room },
    sendKey: input.clientMsgId ? `${roomId}#${sender}#${input.clientMsgId}` : undefined,
    attempt,
    now,
  };
  return { change, read: { roomSeq: room?.seq, message: asMessage(item, now) } };
}

/**
 * Plans the change on the message as read and stores it, until a transaction ends (appending.ts): a lost race for
 * the seq is tried again with the seq the cancellation names, and the message read again if it changed too; a change
 * to the message in between, with the message read again; a transaction conflict, with both read again.
 */
async function storeChange(deps: ChangeDeps, change: Change, read: Read): Promise<ChangedFrame> {
  const liveTarget = () => liveMessage(deps.changes, change.roomId, change.input.seq, change.now);
  for (const tries = new AppendTries(change.input.signal); tries.another(); ) {
    const planned = await planOrAnswer(deps, change, read.message);
    if (!('plan' in planned)) return planned;
    const event = eventOf(change, read.roomSeq, planned.plan);
    const outcome = await deps.changes.apply(writeOf(deps, change, event, read.roomSeq, planned));
    switch (outcome.kind) {
      case 'stored':
        await publish(deps, change, event);
        return reply(change, applied(planned.message, event, planned.plan.update), event.seq);
      case 'sentBefore':
        return answerRecorded(deps, change, outcome.record);
      case 'roomGone':
        throw new RoomClosed(change.roomId, roomEnd(outcome.room, change.now) ?? 'expired');
      case 'seqTaken':
        read.roomSeq = outcome.roomSeq;
        if (outcome.targetChanged) read.message = await liveTarget();
        break;
      case 'targetChanged':
        read.message = await liveTarget();
        break;
      case 'conflict': {
        await tries.pauseAfterConflict();
        const [room, message] = await Promise.all([deps.rooms.get(change.roomId), liveTarget()]);
        read.roomSeq = room?.seq;
        read.message = message;
      }
    }
  }
  throw new Busy();
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
    plan = planChange(message, input.request, change.changer, change.now, deps.editWindowMinutes * 60_000);
  } catch (refusal) {
    const record = sendKey ? await deps.changes.record(sendKey) : undefined;
    if (record) return answerRecorded(deps, change, record);
    throw refusal;
  }
  if (plan.kind === 'change') return { message, plan };
  const record = sendKey ? await deps.changes.record(sendKey) : undefined;
  return record ? answerRecorded(deps, change, record) : reply(change, message);
}

/** The change as a room event under the room's next seq. */
function eventOf(change: Change, roomSeq: number | undefined, plan: Planned['plan']): StoredChange {
  const { request } = change.input;
  return {
    change: request.kind === 'edit' ? 'edited' : request.kind === 'delete' ? 'deleted' : 'reaction',
    roomId: change.roomId,
    seq: (roomSeq ?? 0) + 1,
    messageId: randomUUID(),
    username: change.changer.connection.username,
    sentAt: change.now.toISOString(),
    targetSeq: change.input.seq,
    ...plan.event,
  };
}

/** The transaction's write: held to the room's seq and the message's changeSeq as read, and moving the room's end on. */
function writeOf(
  deps: ChangeDeps,
  change: Change,
  event: StoredChange,
  roomSeq: number | undefined,
  { message, plan }: Planned,
): PlannedChange {
  const nowSeconds = epochSeconds(change.now);
  return {
    event,
    roomSeq,
    expiresAt: nowSeconds + deps.messageRetentionDays * 86400,
    readChangeSeq: message.changeSeq,
    update: plan.update,
    record: change.sendKey
      ? sendRecordOf(change.sendKey, change.attempt, change.now, change.input.deadline)
      : undefined,
    life: change.roomId === LOBBY ? undefined : { nowSeconds, ttl: roomTtl(change.now, deps.roomIdleDays) },
  };
}

function reply(change: Change, message: StoredMessage, seq?: number): ChangedFrame {
  const { roomId, input } = change;
  return {
    type: 'changed',
    roomId,
    ...(seq !== undefined && { seq }),
    ...(input.clientMsgId && { clientMsgId: input.clientMsgId }),
    message: messageFrameOf(message, change.changer.key),
  };
}

/** A clientMsgId's first change, answered again: its reply, published if its first attempt could not. */
async function answerRecorded(deps: ChangeDeps, change: Change, record: SendRecord): Promise<ChangedFrame> {
  const { roomId, input, sendKey } = change;
  const [message, event] = await Promise.all([
    liveMessage(deps.changes, roomId, input.seq, change.now),
    deps.changes.item(roomId, record.seq),
  ]);
  if (event && isStoredChange(event) && sendKey)
    if (await takesPublishing(deps, record, change.attempt, input.deadline))
      await publish(deps, change, event);
  if (!message) throw new MessageNotFound(`There is no message ${input.seq} in this room.`);
  return reply(change, message, record.seq);
}

/** The item as a live message: not a change, and not past its TTL (which DynamoDB applies late). */
function asMessage(item: StoredMessage | StoredChange | undefined, now: Date): StoredMessage | undefined {
  if (!item || isStoredChange(item)) return undefined;
  if (item.ttl !== undefined && item.ttl <= epochSeconds(now)) return undefined;
  return item;
}

async function liveMessage(changes: ChangeStore, roomId: string, seq: number, now: Date) {
  return asMessage(await changes.item(roomId, seq), now);
}

/** The message as the stored change left it, for the reply. */
function applied(message: StoredMessage, event: StoredChange, update: TargetUpdate): StoredMessage {
  const next: StoredMessage = { ...message, changeSeq: event.seq };
  if (update.kind === 'edit') Object.assign(next, { text: update.text, editedAt: update.editedAt });
  else if (update.kind === 'react') next.reactors = update.reactors;
  else {
    next.deleted = update.by;
    next.text = '';
    delete next.reactors;
    delete next.editedAt;
  }
  return next;
}

/** Publishes the change as a room event; on failure hands publishing back so a retry with its clientMsgId does it. */
function publish(deps: ChangeDeps, change: Change, event: StoredChange): Promise<void> {
  const { messageId, roomId, seq } = event;
  const { sendKey, attempt } = change;
  const payload = JSON.stringify(changeFrameOf(event));
  return publishStored(
    deps,
    { messageId, roomId, seq, payload, sendKey, attempt },
    'change',
    STORED_NOT_SENT,
  );
}
