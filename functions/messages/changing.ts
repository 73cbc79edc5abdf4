import { randomUUID } from 'node:crypto';
import { orBusy } from '#core/busy';
import { Busy, Muted, RoomClosed, RoomNotFound } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { refuseKnownEmpty, takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { takeMessageToken, takeSendToken } from '#core/limits/rateLimit';
import { memberKey, senderOf } from '#core/memberKeys';
import { mutedUntil, untilText } from '#core/moderation';
import { LOBBY } from '#core/protocol';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { type ChangedFrame, DM_ROOM_CODE_LENGTH, REACTION_RATE } from '#protocol';
import { catchUp, type Taken, Takes, takeRoomSeq } from './appending';
import { auditChange } from './changeAudit';
import { applied } from './changeFrames';
import { afterChangeStored } from './changeHooks';
import { pinsLimit } from './changeKinds';

/**
 * Changing a message (edit, delete, reaction): the change is a room event under a seq taken from the room's counter
 * as a send takes one, and published through the same fan-out, so it reaches members in seq order, coalesced in a
 * busy room, and `history` gives it to one who was away. With a clientMsgId a retry gets the first reply. An edit or
 * a delete is stored in one transaction with the message's new state (the room's item is not in it)
 * (docs/RELIABILITY.md, "The send path"); a reaction is kept in the Reactions table instead (reacting.ts storeReaction), so
 * that many members react to one message at once. What both share is changeAnswers.ts.
 */

import {
  answerRecorded,
  asMessage,
  type Change,
  type ChangeDeps,
  type ChangeInput,
  eventOf,
  liveMessage,
  MAX_CONFLICTS,
  MAX_TRIES,
  planOrAnswer,
  publish,
  type Read,
  reply,
  roomLifeOf,
  writeOf,
} from './changeAnswers';
import { storeReaction } from './reacting';

export type { ChangeDeps } from './changeAnswers';

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
            afterChangeStored(deps.changeHooks, {
              before: planned.message,
              after,
              expiresAt: epochSeconds(new Date(planned.message.sentAt)) + deps.messageRetentionDays * 86400,
            }),
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
