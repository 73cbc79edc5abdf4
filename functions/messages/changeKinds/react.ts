import { ChangeLimit } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { requireString } from '#core/protocol';
import { CHANGE_LIMITS, type ReactionCount, reactionOf } from '#protocol';
import { type ChangeKind, type ReactionState, UNCHANGED } from './kind';

/**
 * `react`: anyone in the room adds (or with `remove` takes back) a reaction on a message not deleted; adding a
 * reaction it gave, or removing one it did not, is no change; at most `reactionKinds` different reactions and
 * `reactionsPerMessage` in all, and at most `reactionKindsPerMember` different ones from one member (so nobody can
 * take all of a message's kinds). Its state is in the Reactions table, not on the message (no update here): the use
 * case stores a reaction its own way (changing.ts storeReaction) and sets the event's `count` once it is counted.
 */
/** Bytes one member's reaction adds to what the message carries: the member's 16-character key in its list. */
const REACTOR_BYTES = 20;
/** Reactions a priced message carries already when another one comes. */
const REACTIONS_BEFORE = 20;

export const react: ChangeKind<{ kind: 'react'; reaction: string; remove: boolean }> = {
  kind: 'react',
  event: 'reaction',
  parse(body) {
    const reaction = reactionOf(requireString(body, 'reaction'));
    if (reaction === undefined) throw new BadRequest('"reaction" must be a single emoji, such as "👍".');
    if (body.remove !== undefined && typeof body.remove !== 'boolean')
      throw new BadRequest('"remove" must be true or false.');
    return { kind: 'react', reaction, remove: body.remove === true };
  },
  // Priced as a rewrite of the message with its reactions (their state is in the Reactions table, as large).
  cost: {
    name: `reaction (on a message with ${REACTIONS_BEFORE})`,
    message: { text: true, addedBytes: REACTIONS_BEFORE * REACTOR_BYTES },
    eventText: false,
  },
  plan(_message, request, { reactions: { summary, given } }) {
    const mine = given.includes(request.reaction);
    if (mine !== request.remove) return UNCHANGED;
    // Adding: the caps as read, for a clear refusal before anything is written. The Reactions table's conditions hold
    // them against racing members too (messages/dynamoReactions.ts).
    if (!request.remove) {
      const counts = summary?.counts ?? {};
      if (counts[request.reaction] === undefined && Object.keys(counts).length >= CHANGE_LIMITS.reactionKinds)
        throw kindsLimit();
      if ((summary?.total ?? 0) >= CHANGE_LIMITS.reactionsPerMessage) throw totalLimit();
      if (given.length >= CHANGE_LIMITS.reactionKindsPerMember) throw memberLimit();
    }
    return {
      kind: 'change',
      update: undefined,
      event: { reaction: request.reaction, added: !request.remove },
    };
  },
  frame: (item, common) => ({
    type: 'reaction',
    ...common,
    reaction: String(item.reaction),
    added: item.added === true,
    count: Number(item.count ?? 0),
  }),
  // A deleted message shows no reactions; its changeSeq is at least the last reaction event its counts hold.
  shown(message) {
    if (message.deleted) return {};
    const reactions = reactionsOf(message.reactionState);
    const lastSeq = message.reactionState?.summary?.lastSeq ?? 0;
    return { ...(reactions.length > 0 && { reactions }), ...(lastSeq > 0 && { changeSeq: lastSeq }) };
  },
};

/**
 * A message's reactions as the member whose state it is sees them: counts, most given first, its own (`mine`), and
 * who gave each as far as the summary names them (`by`, never more names than the count).
 * Exported for tests: reactorNames.test.ts reads a summary item as the change's reply makes it.
 */
export function reactionsOf(state: ReactionState | undefined): ReactionCount[] {
  const given = new Set(state?.given ?? []);
  const names = state?.summary?.names ?? {};
  return Object.entries(state?.summary?.counts ?? {})
    .filter(([, count]) => count > 0)
    .map(([reaction, count]) => {
      const by = (names[reaction] ?? []).slice(0, Math.min(count, CHANGE_LIMITS.reactorsNamed));
      return { reaction, count, ...(given.has(reaction) && { mine: true }), ...(by.length > 0 && { by }) };
    })
    .sort((a, b) => b.count - a.count || (a.reaction < b.reaction ? -1 : 1));
}

export const kindsLimit = () =>
  new ChangeLimit(`This message has ${CHANGE_LIMITS.reactionKinds} different reactions; add one of those.`);
export const totalLimit = () => new ChangeLimit('This message has as many reactions as it can carry.');
export const sourceKindsLimit = (cap: number) =>
  new ChangeLimit(
    `Your network gives this message ${cap} different reactions from all its connections together; take one back to add another.`,
  );
export const memberLimit = () =>
  new ChangeLimit(
    `You can give one message ${CHANGE_LIMITS.reactionKindsPerMember} different reactions; take one back to add another.`,
  );
