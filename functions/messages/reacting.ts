import { orBusy } from '#core/busy';
import { Busy } from '#core/errors';
import { limitOwner } from '#core/limits/quotas';
import { memberKey } from '#core/memberKeys';
import { epochSeconds } from '#core/roomLife';
import { logger } from '#platform/powertools';
import type { ChangedFrame } from '#protocol';
import { catchUp, type Taken, Takes, takeRoomSeq } from './appending';
import {
  answerAsIs,
  answerRecorded,
  type Change,
  type ChangeDeps,
  eventOf,
  MAX_CONFLICTS,
  MAX_TRIES,
  planOrAnswer,
  publish,
  type Read,
  reply,
  roomLifeOf,
  writeOf,
} from './changeAnswers';
import type { StoredMessage } from './changeFrames';
import { kindsLimit, memberLimit, sourceKindsLimit, totalLimit } from './changeKinds';
import type { ChangeRequest } from './changePlanning';
import type { ChangeStore, ReactionState, ReactionStore } from './ports';

/**
 * Reactions, the change many members make to one message at once (changing.ts hands them here): the reaction's own
 * items, written before its seq is taken (holdReaction: the member's item, the source's kinds without sign-in, the
 * message's counts), then its event under a seq as any change (storeReaction, with changeAnswers.ts). None of its
 * writes touches the message's item or another member's, and none is a transaction (messages/dynamoReactions.ts).
 */

/** One member's reaction to one message, as changing.ts read it. */
interface Reacting {
  message: StoredMessage;
  /** The member's key in the room (memberKey). */
  key: string;
  /** The member's name as shown in the room: the reaction names it while it has few givers (`by`). */
  name: string;
  reaction: string;
  remove?: boolean;
  /** Whose budgets it takes from (limitOwner): `user:<id>` signed in, else the source. */
  owner: string;
  /** ReactionKindsPerSource: without sign-in, the kinds the source's connections give one message in all; 0 = none. */
  cap: number;
  /** When the reaction's items expire: with their message. */
  ttl: number;
}

/**
 * Exported for tests: reactorNames.test.ts holds the reactor names' writes to the caps on the local DynamoDB.
 * Gives (or takes back) the member's reaction and counts it on the message, under the caps; throws the cap met,
 * having taken back what it gave. 'already': given (or taken back) before, by a repeat or a racing attempt of the
 * same member, so nothing is counted again.
 */
export async function holdReaction(
  deps: { changes: ChangeStore; reactions: ReactionStore },
  r: Reacting,
): Promise<'held' | 'already'> {
  const { message, key, reaction, ttl } = r;
  const { roomId } = message;
  const target = { roomId, seq: message.seq };
  // `history` reads the reactions of messages that have some (rooms.ts framesFor): the first one flags the message.
  if (!message.reacted) await orBusy(deps.changes.flagReacted(roomId, message.seq), roomId);
  const given = r.remove
    ? (await deps.reactions.takeBack(target, key, reaction))
      ? 'given'
      : 'already'
    : await deps.reactions.give(target, key, reaction, ttl);
  if (given === 'memberLimit') throw memberLimit();
  if (given === 'already') return 'already';
  // Without sign-in each connection is a member of its own: the source's connections together give the message at
  // most ReactionKindsPerSource kinds, so a few sockets cannot take all its kinds. With sign-in the member is the
  // person, capped above.
  const source =
    r.cap > 0 && !r.owner.startsWith('user:') ? memberKey(roomId, `source:${r.owner}`) : undefined;
  if (source !== undefined) {
    if (r.remove) await deps.reactions.releaseKind(target, source, reaction);
    else if (!(await deps.reactions.holdKind(target, source, reaction, r.cap, ttl))) {
      await deps.reactions.takeBack(target, key, reaction);
      throw sourceKindsLimit(r.cap);
    }
  }
  const counted = await deps.reactions.count(target, reaction, r.remove ? -1 : 1, ttl, r.name);
  if (counted !== 'counted') {
    // Another member's reaction took the message to a cap since it was read: the member's item is taken back.
    await deps.reactions.takeBack(target, key, reaction);
    if (source !== undefined) await deps.reactions.releaseKind(target, source, reaction);
    throw counted === 'kindsLimit' ? kindsLimit() : totalLimit();
  }
  return 'held';
}

/**
 * A reaction, written so that many members can react to one message at once: no write touches the message's item
 * or another member's, and none is a transaction (messages/dynamoReactions.ts). In this order:
 * 1. the member's own item (`give` / `takeBack`): idempotent, so a repeat or a retry changes nothing;
 * 2. the message's summary (`count`: ADD, under the caps); 1 and 2 are holdReaction;
 * 3. the seq, taken from the room's counter only now;
 * 4. `mark`: the summary's lastSeq moves up to that seq, returning the counts.
 * Every reaction counted before a seq was taken is in the counts `mark` returns for it (its count went in before its
 * own seq, which is below this one, was taken), so the event with the highest seq of a reaction carries its final
 * count, and a message read with `changeSeq` = lastSeq holds the effect of every reaction event up to it: a client
 * applying events above `changeSeq` with their counts (client/messages.ts) ends at the right count.
 * Then the event is stored (with the send record) and published as any change. A seq taken and not stored is a gap.
 */
export async function storeReaction(deps: ChangeDeps, change: Change, read: Read): Promise<ChangedFrame> {
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
