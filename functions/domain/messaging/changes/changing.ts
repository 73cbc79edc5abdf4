import { randomUUID } from 'node:crypto';
import type { ChangedFrame } from '../../../../protocol';
import { Busy, PublishFailed, RoomClosed, RoomNotFound } from '../../../platform/errors';
import { logger } from '../../../platform/powertools';
import { LOBBY } from '../../../platform/protocol';
import { requireConnection } from '../../identity/connections';
import { takeSendToken } from '../../limits/rateLimit';
import type { ChatPorts, Room, SendRecord, SendSettings } from '../../ports';
import { epochSeconds, roomEnd, roomTtl } from '../../rooms/roomLife';
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
import { type ChangeRequest, type Changer, planChange } from './planning';
import type { ChangeStore, TargetUpdate } from './ports';

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
}

const SEND_RECORD_TTL_SECONDS = 24 * 3600;
/** As for sends (sending.ts): a lost race for the seq always means the room progressed; conflicts get a few tries. */
const MAX_TRIES = 50;
const MAX_CONFLICTS = 4;

export async function changeMessage(deps: ChangeDeps, input: ChangeInput): Promise<ChangedFrame> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) await input.admitLobbyPost?.();
  const sender = senderOf(connection);
  const key = memberKey(roomId, sender);
  const sendKey = input.clientMsgId ? `${roomId}#${sender}#${input.clientMsgId}` : undefined;
  const attempt = randomUUID();
  const now = deps.now();
  const [room, read] = await Promise.all([
    deps.rooms.get(roomId),
    deps.changes.item(roomId, input.seq),
    deps.sendRate && takeSendToken(deps.connections, connection, deps.sendRate, now.getTime()),
  ]);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const end = room && roomId !== LOBBY ? roomEnd(room, now) : undefined;
  if (end) throw new RoomClosed(roomId, end);
  const changer: Changer = { connection, key, room };
  const reply = (message: StoredMessage, seq?: number): ChangedFrame => ({
    type: 'changed',
    roomId,
    ...(seq !== undefined && { seq }),
    ...(input.clientMsgId && { clientMsgId: input.clientMsgId }),
    message: messageFrameOf(message, key),
  });
  /** A clientMsgId's first change, answered again: its reply, published if its first attempt could not. */
  const answerRecorded = async (record: SendRecord): Promise<ChangedFrame> => {
    const [message, event] = await Promise.all([
      liveMessage(deps.changes, roomId, input.seq, now),
      deps.changes.item(roomId, record.seq),
    ]);
    if (record.publisher === undefined && event && isStoredChange(event) && sendKey)
      if (await deps.sends.takePublishing(sendKey, attempt)) await publish(deps, event, sendKey, attempt);
    if (!message) throw new MessageNotFound(`There is no message ${input.seq} in this room.`);
    return reply(message, record.seq);
  };

  let message = asMessage(read, now);
  let roomSeq = room?.seq;
  const life =
    roomId === LOBBY ? undefined : { nowSeconds: epochSeconds(now), ttl: roomTtl(now, deps.roomIdleDays) };
  let conflicts = 0;
  for (let tries = 1; tries <= MAX_TRIES && conflicts < MAX_CONFLICTS; tries++) {
    if (input.signal?.aborted) throw new Busy();
    let plan: ReturnType<typeof planChange>;
    try {
      if (!message) throw new MessageNotFound(`There is no message ${input.seq} in this room.`);
      plan = planChange(message, input.request, changer, now, deps.editWindowMinutes * 60_000);
    } catch (refusal) {
      // A retry whose first attempt changed the message finds it changed: its first reply, not a refusal.
      const record = sendKey ? await deps.changes.record(sendKey) : undefined;
      if (record) return answerRecorded(record);
      throw refusal;
    }
    if (plan.kind === 'unchanged') {
      const record = sendKey ? await deps.changes.record(sendKey) : undefined;
      return record ? answerRecorded(record) : reply(message);
    }
    const event: StoredChange = {
      change:
        input.request.kind === 'edit' ? 'edited' : input.request.kind === 'delete' ? 'deleted' : 'reaction',
      roomId,
      seq: (roomSeq ?? 0) + 1,
      messageId: randomUUID(),
      username: connection.username,
      sentAt: now.toISOString(),
      targetSeq: input.seq,
      ...plan.event,
    };
    const outcome = await deps.changes.apply({
      event,
      roomSeq,
      expiresAt: epochSeconds(now) + deps.messageRetentionDays * 86400,
      readChangeSeq: message.changeSeq,
      update: plan.update,
      record: sendKey
        ? { sendKey, publisher: attempt, expiresAt: epochSeconds(now) + SEND_RECORD_TTL_SECONDS }
        : undefined,
      life,
    });
    switch (outcome.kind) {
      case 'stored':
        await publish(deps, event, sendKey, attempt);
        return reply(applied(message, event, plan.update), event.seq);
      case 'sentBefore':
        return answerRecorded(outcome.record);
      case 'roomGone':
        throw new RoomClosed(roomId, roomEnd(outcome.room, now) ?? 'expired');
      case 'seqTaken':
        roomSeq = outcome.roomSeq;
        if (outcome.targetChanged) message = await liveMessage(deps.changes, roomId, input.seq, now);
        break;
      case 'targetChanged':
        message = await liveMessage(deps.changes, roomId, input.seq, now);
        break;
      case 'conflict': {
        conflicts++;
        await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20 * conflicts));
        const [fresh, again] = await Promise.all([
          deps.rooms.get(roomId),
          liveMessage(deps.changes, roomId, input.seq, now),
        ]);
        roomSeq = (fresh as Room | undefined)?.seq;
        message = again;
      }
    }
  }
  throw new Busy();
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
async function publish(deps: ChangeDeps, event: StoredChange, sendKey: string | undefined, attempt: string) {
  try {
    await deps.events.publish([
      {
        type: 'MessageSent',
        messageId: event.messageId,
        roomId: event.roomId,
        seq: event.seq,
        payload: JSON.stringify(changeFrameOf(event)),
      },
    ]);
  } catch (error) {
    if (sendKey)
      await deps.sends
        .releasePublishing(sendKey, attempt)
        .catch((cause: unknown) =>
          logger.error('a stored change could not be handed back for publishing', cause as Error),
        );
    throw error instanceof PublishFailed
      ? error.told(
          'The change was stored but could not be sent to the room yet. Retry with the same clientMsgId.',
        )
      : error;
  }
}
