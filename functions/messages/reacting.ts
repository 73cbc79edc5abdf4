import { orBusy } from '#core/busy';
import { memberKey } from '#core/memberKeys';
import type { StoredMessage } from './changeFrames';
import { kindsLimit, memberLimit, sourceKindsLimit, totalLimit } from './changeKinds';
import type { ChangeStore, ReactionStore } from './ports';

/**
 * A reaction's own items, written before its seq is taken (changing.ts storeReaction, steps 1 and 2): the member's
 * item, the source's kinds without sign-in, and the message's counts. None touches the message's item or another
 * member's, and none is a transaction, so many members react to one message at once (messages/dynamoReactions.ts).
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
