import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetAll } from '#platform/aws/batchGet';
import { isConditionFailure, unlessRefused } from '#platform/aws/conditions';
import { CHANGE_LIMITS } from '#protocol';
import type {
  CountOutcome,
  GiveOutcome,
  ReactionState,
  ReactionStore,
  ReactionSummary,
  ReactionTarget,
} from './ports';

/**
 * The Reactions table: one partition per message (`target` = `roomId#seq`), so a popular message's reactions never
 * write the room's Messages partition nor the message's item. In it:
 * - `#`, the message's summary: `counts` (reaction -> members giving it, at most CHANGE_LIMITS.reactionKinds
 *   entries), `total` (every reaction, at most reactionsPerMessage), `lastSeq` (the highest reaction event whose
 *   effect the counts hold; the message's `changeSeq` as far as reactions go);
 *   and `n#<reaction>` per reaction, a string set of the names of at most CHANGE_LIMITS.reactorsNamed of its givers
 *   (the first that many: a name goes in while the reaction has no more givers, and leaves with its take-back);
 * - `m#<memberKey>`, one member's reactions to the message: `given`, a string set of at most
 *   reactionKindsPerMember emoji.
 * Every write is an UpdateItem of one small item (< 1 KB: 1 WCU, a summary naming many kinds a few KB: see
 * docs/DECISIONS.md "Who reacted"), never a transaction, so reactors never conflict.
 */
const SUMMARY = '#';
/** The summary's attribute naming a reaction's givers: a top-level set, as ADD and DELETE take only those. */
const NAMES = 'n#';
const memberSk = (memberKey: string) => `m#${memberKey}`;
/** A source's kinds of reaction to the message without sign-in (`kinds`: reaction -> its connections giving it). */
const sourceSk = (sourceKey: string) => `s#${sourceKey}`;
const targetOf = ({ roomId, seq }: ReactionTarget) => `${roomId}#${seq}`;

function summaryOf(item: Record<string, unknown> | undefined): ReactionSummary | undefined {
  if (!item) return undefined;
  const counts: Record<string, number> = {};
  for (const [reaction, n] of Object.entries((item.counts as Record<string, unknown>) ?? {}))
    if (Number(n) > 0) counts[reaction] = Number(n);
  const names: Record<string, string[]> = {};
  for (const [attribute, value] of Object.entries(item)) {
    const reaction = attribute.slice(NAMES.length);
    if (attribute.startsWith(NAMES) && counts[reaction] !== undefined && value instanceof Set)
      names[reaction] = [...(value as Set<string>)].sort();
  }
  return {
    counts,
    total: Number(item.total ?? 0),
    lastSeq: Number(item.lastSeq ?? 0),
    ...(Object.keys(names).length > 0 && { names }),
  };
}

const givenOf = (item: Record<string, unknown> | undefined): string[] => [
  ...((item?.given as Set<string> | undefined) ?? []),
];

const failed = isConditionFailure;

/** The item a refused write found (ReturnValuesOnConditionCheckFailure: ALL_OLD), which the SDK leaves marshalled. */
function oldItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
  return item ? unmarshall(item) : undefined;
}

export class DynamoReactionStore implements ReactionStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async state(target: ReactionTarget, memberKey: string): Promise<ReactionState> {
    const key = targetOf(target);
    const [summary, mine] = await Promise.all(
      [SUMMARY, memberSk(memberKey)].map((sk) =>
        this.db.send(
          new GetCommand({ TableName: this.table, Key: { target: key, key: sk }, ConsistentRead: true }),
        ),
      ),
    );
    return { summary: summaryOf(summary?.Item), given: givenOf(mine?.Item) };
  }

  async give(target: ReactionTarget, memberKey: string, reaction: string, ttl: number): Promise<GiveOutcome> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { target: targetOf(target), key: memberSk(memberKey) },
          UpdateExpression: 'ADD given :one SET #ttl = :ttl',
          // Idempotent (a member gives a reaction once) and the per-member cap, in the one write.
          ConditionExpression:
            'attribute_not_exists(given) OR (NOT contains(given, :e) AND size(given) < :kinds)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':one': new Set([reaction]),
            ':e': reaction,
            ':kinds': CHANGE_LIMITS.reactionKindsPerMember,
            ':ttl': ttl,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'given';
    } catch (error) {
      if (!failed(error)) throw error;
      const given = givenOf(oldItem(error));
      return given.includes(reaction) ? 'already' : 'memberLimit';
    }
  }

  async takeBack(target: ReactionTarget, memberKey: string, reaction: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { target: targetOf(target), key: memberSk(memberKey) },
          UpdateExpression: 'DELETE given :one',
          ConditionExpression: 'contains(given, :e)',
          ExpressionAttributeValues: { ':one': new Set([reaction]), ':e': reaction },
        }),
      );
      return true;
    } catch (error) {
      if (failed(error)) return false;
      throw error;
    }
  }

  async count(
    target: ReactionTarget,
    reaction: string,
    delta: 1 | -1,
    ttl: number,
    name: string,
  ): Promise<CountOutcome> {
    const Key = { target: targetOf(target), key: SUMMARY };
    for (let created = false; ; created = true) {
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            // SET with arithmetic is as atomic as ADD (one item, one write), and reaches into the map.
            // A take-back unnames its giver in the same write (DELETE of a name not in the set changes nothing).
            UpdateExpression: `SET counts.#e = if_not_exists(counts.#e, :none) + :d, #total = #total + :d${delta < 0 ? ' DELETE #n :name' : ''}`,
            // Adding: at most reactionsPerMessage in all, and a new kind only below reactionKinds (a kind whose count
            // fell to 0 is removed below, so `size(counts)` counts the kinds given). On a summary not yet created
            // the condition fails too (`total` absent).
            ConditionExpression:
              delta > 0
                ? '#total < :max AND (attribute_exists(counts.#e) OR size(counts) < :kinds)'
                : 'counts.#e > :none',
            ExpressionAttributeNames: {
              '#e': reaction,
              '#total': 'total',
              ...(delta < 0 && { '#n': `${NAMES}${reaction}` }),
            },
            ExpressionAttributeValues: {
              ':d': delta,
              ':none': 0,
              ...(delta < 0 && { ':name': new Set([name]) }),
              ...(delta > 0 && {
                ':max': CHANGE_LIMITS.reactionsPerMessage,
                ':kinds': CHANGE_LIMITS.reactionKinds,
              }),
            },
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const left = Number((Attributes?.counts as Record<string, unknown> | undefined)?.[reaction] ?? 0);
        if (left <= 0) await this.dropKind(Key, reaction);
        else if (delta > 0 && left <= CHANGE_LIMITS.reactorsNamed) await this.name(Key, reaction, name);
        return 'counted';
      } catch (error) {
        if (!failed(error)) throw error;
        // Taking back a reaction the summary does not count: nothing to count down.
        if (delta < 0) return 'counted';
        const summary = summaryOf(oldItem(error));
        if (summary === undefined && !created) {
          await this.create(Key, ttl);
          continue;
        }
        return (summary?.total ?? 0) >= CHANGE_LIMITS.reactionsPerMessage ? 'totalLimit' : 'kindsLimit';
      }
    }
  }

  /** The message's first reaction creates its summary (once: a racer's is kept). */
  private async create(Key: Record<string, string>, ttl: number): Promise<void> {
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: 'SET counts = :none, #total = :zero, lastSeq = :zero, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#total)',
          ExpressionAttributeNames: { '#ttl': 'ttl', '#total': 'total' },
          ExpressionAttributeValues: { ':none': {}, ':zero': 0, ':ttl': ttl },
        }),
      ),
    );
  }

  /**
   * Names a giver among the reaction's first CHANGE_LIMITS.reactorsNamed (its count after this one was at most that):
   * a second write, so only those few givers of each reaction pay it. The set's size bounds the names even when racing
   * givers and take-backs interleave; a refusal (full, or the kind dropped meanwhile) names nobody.
   */
  private async name(Key: Record<string, string>, reaction: string, name: string): Promise<void> {
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: 'ADD #n :name',
          ConditionExpression:
            'attribute_exists(counts.#e) AND (attribute_not_exists(#n) OR size(#n) < :named)',
          ExpressionAttributeNames: { '#e': reaction, '#n': `${NAMES}${reaction}` },
          ExpressionAttributeValues: { ':name': new Set([name]), ':named': CHANGE_LIMITS.reactorsNamed },
        }),
      ),
    );
  }

  /** A kind nobody gives any more leaves the map, unless a member gave it again in between. */
  private async dropKind(Key: Record<string, string>, reaction: string): Promise<void> {
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: 'REMOVE counts.#e, #n',
          ConditionExpression: 'counts.#e <= :zero',
          ExpressionAttributeNames: { '#e': reaction, '#n': `${NAMES}${reaction}` },
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      ),
    );
  }

  async holdKind(
    target: ReactionTarget,
    sourceKey: string,
    reaction: string,
    cap: number,
    ttl: number,
  ): Promise<boolean> {
    const Key = { target: targetOf(target), key: sourceSk(sourceKey) };
    // One more giver of a kind the source gives already, or of a new kind below the cap; else the map itself for the
    // source's first; else, if another reaction made the map in between, the first once more. A full map comes back
    // with the failed write and ends the attempts.
    const names = { '#e': reaction, '#ttl': 'ttl' };
    const more = {
      UpdateExpression: 'SET kinds.#e = if_not_exists(kinds.#e, :zero) + :one, #ttl = :ttl',
      ConditionExpression: 'attribute_exists(kinds.#e) OR size(kinds) < :cap',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':cap': cap, ':ttl': ttl },
    };
    const first = {
      UpdateExpression: 'SET kinds = :kinds, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(kinds)',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':kinds': { [reaction]: 1 }, ':ttl': ttl },
    };
    for (const attempt of [more, first, more]) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            ...attempt,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return true;
      } catch (error) {
        if (!failed(error)) throw error;
        const kinds = oldItem(error)?.kinds as Record<string, unknown> | undefined;
        if (kinds && !(reaction in kinds) && Object.keys(kinds).length >= cap) return false;
      }
    }
    return false;
  }

  async releaseKind(target: ReactionTarget, sourceKey: string, reaction: string): Promise<void> {
    const Key = { target: targetOf(target), key: sourceSk(sourceKey) };
    // One fewer giver; the last one's kind leaves the map, so the source may give another kind in its place.
    const fewer = {
      UpdateExpression: 'SET kinds.#e = kinds.#e - :one',
      ConditionExpression: 'kinds.#e > :one',
    };
    const last = { UpdateExpression: 'REMOVE kinds.#e', ConditionExpression: 'kinds.#e <= :one' };
    for (const attempt of [fewer, last]) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key,
            ...attempt,
            ExpressionAttributeNames: { '#e': reaction },
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
        return;
      } catch (error) {
        if (!failed(error)) throw error;
      }
    }
  }

  async mark(target: ReactionTarget, seq: number): Promise<ReactionSummary> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { target: targetOf(target), key: SUMMARY },
          UpdateExpression: 'SET lastSeq = :seq',
          ConditionExpression: 'lastSeq < :seq',
          ExpressionAttributeValues: { ':seq': seq },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return summaryOf(Attributes) ?? { counts: {}, total: 0, lastSeq: seq };
    } catch (error) {
      if (!failed(error)) throw error;
      // A later reaction event marked it first: its counts hold this one's too.
      return summaryOf(oldItem(error)) ?? { counts: {}, total: 0, lastSeq: seq };
    }
  }
}

/** At most this many keys per BatchGetItem (DynamoDB's limit). */
const BATCH_KEYS = 100;

/**
 * The reactions of a page of messages as `viewer` sees them: each message's summary and the viewer's own reactions,
 * two small items per message in BatchGetItem requests of 100 keys (a history page of 50 messages: one request).
 */
export async function readReactions(
  db: DynamoDBDocumentClient,
  table: string,
  roomId: string,
  seqs: readonly number[],
  viewer: string | undefined,
): Promise<Map<number, ReactionState>> {
  const found = new Map<number, ReactionState>();
  const keys = seqs.flatMap((seq) => {
    const target = targetOf({ roomId, seq });
    return [{ target, key: SUMMARY }, ...(viewer === undefined ? [] : [{ target, key: memberSk(viewer) }])];
  });
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_KEYS)
    items.push(...(await batchGetAll(db, { TableName: table, Keys: keys.slice(i, i + BATCH_KEYS) })));
  const bySeq = (item: Record<string, unknown>) => Number(String(item.target).slice(roomId.length + 1));
  for (const seq of seqs) found.set(seq, { summary: undefined, given: [] });
  for (const item of items) {
    const state = found.get(bySeq(item));
    if (!state) continue;
    if (item.key === SUMMARY) state.summary = summaryOf(item);
    else state.given = givenOf(item);
  }
  return found;
}
