import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { ChatMessage } from '../../../protocol';
import { batchGetAll } from '../../platform/aws/batchGet';
import { type ClaimResult, type Cycle, framesOf, LEASE_MS, MESSAGES_PER_CYCLE } from './coalescing';
import { leaseShardOf } from './leaseSweep';
import { planReservation, type ShardPosts, singleShardPosts } from './postBudget';

/**
 * The fan-out's own state in DynamoDB. On the room's item, beside the `seq` its sends count: the delivery cursor
 * `deliveredSeq` (messages up to it are taken by a cycle; unset: none yet), the lease (`leaseOwner`, the execution
 * that holds it; `leaseUntil` epoch ms; `leaseFrom`, where the holder's cycle starts) and the members owed a resync frame (`resyncAfter`, connection id -> afterSeq). In the Limits table, the
 * account-wide posting budget: per second, one counter item per shard (budgetShares).
 */
/** A page of a room's members: ids, and the Query's start key for the page after (absent: none follows). */
export interface MembersPage {
  ids: string[];
  next?: Record<string, AttributeValue>;
}

export interface FanoutTables {
  rooms: string;
  messages: string;
  connections: string;
  /** The connections table's index of a room's members. */
  roomIndex: string;
  limits: string;
  /** The rooms table's sparse index of held leases (leaseShard, leaseUntil): the stranded-room sweep's. */
  leaseIndex?: string;
}

interface RoomItem {
  roomId: string;
  seq?: number;
  deliveredSeq?: number;
  leaseOwner?: string;
  leaseUntil?: number;
  /** Where the holder's cycle starts: its cycle is the messages after it up to deliveredSeq. */
  leaseFrom?: number;
  resyncAfter?: Record<string, number>;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** A lease write competes with sends' transactions on the room's item: a conflict is tried again a few times. */
const isConflict = (error: unknown) =>
  (error as { name?: string } | undefined)?.name === 'TransactionConflictException';

async function applied(write: () => Promise<unknown>): Promise<boolean> {
  for (let conflicts = 0; ; conflicts++) {
    try {
      await write();
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      if (!isConflict(error) || conflicts >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * (conflicts + 1)));
    }
  }
}

/**
 * Resync notes a room's item holds at most (~30 KB of its 400 KB): past it a member gets no note, and finds its gap
 * from the next message's seq instead. Notes of members who left are dropped at the next claim (resyncNotes.ts).
 */
export const MAX_RESYNC_NOTES = 1000;

/** Races for the lease one execution tries before it counts itself coalesced. */
const CLAIM_TRIES = 5;
/** The budget's counter items outlive their second by a minute (DynamoDB TTL removes them later still). */
const BUDGET_TTL_SECONDS = 60;

/** Posts taken from one second's budget, shard by shard: a refund gives them back where they were taken. */
export interface PostGrant {
  second: number;
  /** Posts taken from each shard (its index in budgetShares). */
  shards: ShardPosts[];
}

export const grantedPosts = (grant: PostGrant | undefined): number =>
  grant?.shards.reduce((n, taken) => n + taken.posts, 0) ?? 0;

const budgetKey = (second: number, shard: number) => `post-budget#${second}#${shard}`;

export class DynamoFanoutStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: FanoutTables,
    /** Picks the budget's shards (a test's own sequence). */
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Takes the room's free (or expired) delivery lease for `owner` and the messages after the cursor, or reports the
   * execution coalesced: the lease is held (its holder will deliver this message, since it frees the lease only when
   * the room's seq equals what it delivered), or the message was already taken by a cycle. A quiet room costs one
   * conditional write: the lease is free and the cursor one below the message's seq.
   */
  async claim(roomId: string, seq: number, owner: string, now: number): Promise<ClaimResult> {
    const quiet = await this.takeLease(roomId, owner, now, {
      cursor: seq - 1,
      upto: seq,
      roomSeq: seq,
    });
    if (quiet) return { afterSeq: seq - 1, uptoSeq: seq, frames: 1, resync: quiet.resyncAfter ?? {} };
    for (let tries = 0; tries < CLAIM_TRIES; tries++) {
      const room = await this.room(roomId);
      // This execution's own lease: a claim run again (its answer was lost, or the execution re-ran) gets the same
      // cycle back, not "coalesced", or the cursor would have passed messages nobody posts.
      if (room?.leaseOwner === owner && room.deliveredSeq !== undefined)
        return this.heldCycle(roomId, room, room.deliveredSeq);
      if (!room || (room.leaseUntil !== undefined && room.leaseUntil >= now)) return { coalesced: true };
      // No cursor yet: no message of the room was delivered, whichever execution comes first. An expired lease
      // still held: its holder died mid-cycle, so that cycle (after leaseFrom) is delivered again, as the sweep does.
      const cursor =
        room.leaseOwner === undefined ? (room.deliveredSeq ?? 0) : (room.leaseFrom ?? room.deliveredSeq ?? 0);
      const roomSeq = room.seq ?? 0;
      if (roomSeq <= cursor) return { coalesced: true };
      const plan = await this.plan(roomId, cursor, roomSeq);
      const taken = await this.takeLease(roomId, owner, now, {
        cursor: room.deliveredSeq,
        upto: plan.uptoSeq,
        from: cursor,
      });
      if (taken) return { ...plan, resync: taken.resyncAfter ?? {} };
    }
    return { coalesced: true };
  }

  /**
   * Frees the lease if nothing arrived since `uptoSeq` (the room's seq still equals it): one conditional write. If
   * messages arrived, keeps the lease and returns the next cycle, taken once `gather` (the busy room's window) has
   * passed; a holder whose lease was taken over (it expired) stops, the new holder delivers the rest. `handOver`
   * frees the lease whatever arrived (the holder ran long), answering the room's seq when messages are left after
   * the cursor (`pendingSeq`: the caller starts a successor for them).
   */
  async release(
    roomId: string,
    owner: string,
    uptoSeq: number,
    now: number,
    handOver = false,
    gather: () => Promise<void> = async () => undefined,
  ): Promise<ClaimResult | { released: true; pendingSeq?: number }> {
    let before: RoomItem | undefined;
    const freed = await applied(async () => {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil, leaseFrom, leaseShard',
          ConditionExpression: handOver ? 'leaseOwner = :me' : 'leaseOwner = :me AND seq = :upto',
          ExpressionAttributeValues: { ':me': owner, ...(handOver ? {} : { ':upto': uptoSeq }) },
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = Attributes as RoomItem | undefined;
    });
    // Handed over with messages after the cursor: their executions coalesced, so a successor must deliver them.
    const pendingSeq = before?.seq ?? 0;
    if (freed && handOver && pendingSeq > uptoSeq) return { released: true, pendingSeq };
    if (freed) return { released: true };
    await gather();
    const room = await this.room(roomId);
    if (!room || room.leaseOwner !== owner) return { released: true };
    // A release run again after it took the next cycle (its answer was lost) gets that cycle back, not the one
    // after it: the cursor moves only from the value this holder delivered up to.
    if (room.deliveredSeq !== uptoSeq)
      return room.leaseFrom === uptoSeq && room.deliveredSeq !== undefined
        ? this.heldCycle(roomId, room, room.deliveredSeq)
        : { released: true };
    const cursor = uptoSeq;
    const plan = await this.plan(roomId, cursor, room.seq ?? cursor);
    const moved = await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET leaseUntil = :until, deliveredSeq = :upto, leaseFrom = :cursor',
          ConditionExpression: 'leaseOwner = :me AND deliveredSeq = :cursor',
          ExpressionAttributeValues: {
            ':me': owner,
            ':until': now + LEASE_MS,
            ':upto': plan.uptoSeq,
            ':cursor': cursor,
          },
        }),
      ),
    );
    // Only its owner moves the cursor while the lease holds; losing this write means the lease was taken over.
    if (!moved) return { released: true };
    return { ...plan, resync: room.resyncAfter ?? {} };
  }

  /**
   * Gives up `owner`'s cycle: the cursor goes back to the cycle's start (its members may have had part of it; clients
   * drop a seq they hold) and the lease is freed. The room's seq when a successor should deliver what is left, once
   * per newest message (`abandonedSeq`), so a failure that lasts does not start executions without end.
   */
  async abandon(roomId: string, owner: string): Promise<number | undefined> {
    let before: RoomItem & { abandonedSeq?: number } = { roomId };
    const done = await applied(async () => {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression:
            'SET deliveredSeq = leaseFrom, abandonedSeq = seq REMOVE leaseOwner, leaseUntil, leaseFrom, leaseShard',
          ConditionExpression: 'leaseOwner = :me AND attribute_exists(leaseFrom)',
          ExpressionAttributeValues: { ':me': owner },
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = (Attributes ?? before) as typeof before;
    });
    const seq = before.seq ?? 0;
    return done && seq > (before.leaseFrom ?? seq) && before.abandonedSeq !== seq ? seq : undefined;
  }

  /**
   * Takes over the lease that `from` handed on mid-cycle (it ran out of time between two pages): `owner` gets the
   * same cycle, to deliver the pages `from` did not reach. Run again by the same owner it answers the same cycle;
   * coalesced when the lease has gone to anyone else (it expired and was claimed: the new holder delivers).
   */
  async resume(roomId: string, from: string, owner: string, now: number): Promise<ClaimResult> {
    let item: RoomItem | undefined;
    await applied(async () => {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET leaseOwner = :me, leaseUntil = :until',
          ConditionExpression: 'leaseOwner = :from',
          ExpressionAttributeValues: { ':me': owner, ':from': from, ':until': now + LEASE_MS },
          ReturnValues: 'ALL_NEW',
        }),
      );
      item = Attributes as RoomItem | undefined;
    });
    const room = item ?? (await this.room(roomId));
    if (room?.leaseOwner !== owner || room.deliveredSeq === undefined) return { coalesced: true };
    return this.heldCycle(roomId, room, room.deliveredSeq);
  }

  /** Extends the lease of a holder that is still delivering; false when it was taken over. */
  async renew(roomId: string, owner: string, now: number): Promise<boolean> {
    return applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET leaseUntil = :until',
          ConditionExpression: 'leaseOwner = :me',
          ExpressionAttributeValues: { ':me': owner, ':until': now + LEASE_MS },
        }),
      ),
    );
  }

  /**
   * Reserves `posts` (at most `perSecond`) in the account-wide budget of the second `now` falls in, shared first come
   * first served by every room's cycles: what was taken from which shard, or undefined when it did not fit. As
   * planReservation says: one shard picked at random and, if it has no room, one other picked at random (at most two
   * writes); or an even part from every shard, the parts taken given back if one did not fit.
   */
  async reserve(posts: number, perSecond: number, now: number): Promise<PostGrant | undefined> {
    const second = Math.floor(now / 1000);
    const { shares, wanted, parts } = planReservation(posts, perSecond);
    if (wanted === 0) return { second, shards: [] };
    if (!parts) {
      const first = Math.floor(this.random() * shares.length);
      const tries = [first];
      if (shares.length > 1)
        tries.push((first + 1 + Math.floor(this.random() * (shares.length - 1))) % shares.length);
      for (const shard of tries)
        if (await this.take(second, shard, wanted, shares[shard] as number))
          return { second, shards: [{ shard, posts: wanted }] };
      return undefined;
    }
    const taken = await Promise.allSettled(
      parts.map((part) => this.take(second, part.shard, part.posts, shares[part.shard] as number)),
    );
    const grant = {
      second,
      shards: parts.filter((_, i) => taken[i]?.status === 'fulfilled' && taken[i].value),
    };
    if (grant.shards.length === parts.length) return grant;
    await this.refund(grant, 0);
    const failed = taken.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    return undefined;
  }

  /**
   * Reserves `posts` as reserve does when they fit one shard, else as several reservations of one shard each, taken
   * at once (one reservation that big takes a part from every shard: a write per shard): a page's worth in a few
   * writes. What was granted, maybe less than asked, as one grant; undefined when nothing was.
   */
  async reserveInParts(posts: number, perSecond: number, now: number): Promise<PostGrant | undefined> {
    const most = singleShardPosts(perSecond);
    if (posts <= most) return this.reserve(posts, perSecond, now);
    const count = Math.ceil(posts / most);
    const parts = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        this.reserve(Math.floor(posts / count) + (i < posts % count ? 1 : 0), perSecond, now),
      ),
    );
    const granted = parts.flatMap((part) => (part.status === 'fulfilled' && part.value ? [part.value] : []));
    const failed = parts.find((part) => part.status === 'rejected');
    if (granted.length === 0 && failed) throw failed.reason;
    return granted.length === 0
      ? undefined
      : { second: (granted[0] as PostGrant).second, shards: granted.flatMap((grant) => grant.shards) };
  }

  /**
   * Reserves all of `posts` or none, in reservations of one shard each (reserveInParts), so that one full shard does
   * not refuse a reservation bigger than a shard takes (an even part from every shard would need room in each).
   */
  async reserveAll(posts: number, perSecond: number, now: number): Promise<boolean> {
    const grant = await this.reserveInParts(posts, perSecond, now);
    if (grantedPosts(grant) >= Math.min(posts, perSecond)) return true;
    if (grant) await this.refund(grant, 0);
    return false;
  }

  /**
   * Gives back what `grant` took beyond the `kept` posts it covers, to the shards it was taken from, so the second's
   * budget counts only what is posted.
   */
  async refund(grant: PostGrant, kept: number): Promise<void> {
    let back = grantedPosts(grant) - Math.max(0, kept);
    const writes: Promise<boolean>[] = [];
    for (const { shard, posts } of grant.shards) {
      if (back <= 0) break;
      const n = Math.min(back, posts);
      back -= n;
      writes.push(
        applied(() =>
          this.db.send(
            new UpdateCommand({
              TableName: this.tables.limits,
              Key: { limitKey: budgetKey(grant.second, shard) },
              UpdateExpression: 'ADD posts :back',
              ConditionExpression: 'posts >= :n',
              ExpressionAttributeValues: { ':back': -n, ':n': n },
            }),
          ),
        ),
      );
    }
    await Promise.all(writes);
  }

  /** Takes `posts` from one shard of `second` if its count stays within its `share`. */
  private take(second: number, shard: number, posts: number, share: number): Promise<boolean> {
    return applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.limits,
          Key: { limitKey: budgetKey(second, shard) },
          UpdateExpression: 'ADD posts :n SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(posts) OR posts <= :left',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':n': posts,
            ':left': share - posts,
            ':ttl': second + BUDGET_TTL_SECONDS,
          },
        }),
      ),
    );
  }

  /** The room's messages after `afterSeq` up to `uptoSeq`, in seq order. */
  async messages(roomId: string, afterSeq: number, uptoSeq: number): Promise<ChatMessage[]> {
    const found: ChatMessage[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.tables.messages,
          KeyConditionExpression: 'roomId = :room AND seq BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':room': roomId, ':from': afterSeq + 1, ':to': uptoSeq },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const { ttl: _ttl, ...message } = item;
        found.push(message as ChatMessage);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  /**
   * Up to `limit` of the room's members, read in one Query of the room index (as the state machine reads its pages):
   * their connection ids and, when more may follow, where the next page starts, in DynamoDB JSON for the state
   * machine's Query. A page of exactly `limit` items always carries it, whether or not more follow.
   */
  async membersPage(roomId: string, limit: number): Promise<MembersPage> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.tables.connections,
        IndexName: this.tables.roomIndex,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ProjectionExpression: 'connectionId',
        Limit: limit,
      }),
    );
    const ids = (page.Items ?? []).map((item) => item.connectionId as string);
    return page.LastEvaluatedKey ? { ids, next: marshall(page.LastEvaluatedKey) } : { ids };
  }

  /** Of these connections, the ones still in the room: a member who left or moved gets nothing more. */
  async stillIn(roomId: string, connectionIds: readonly string[]): Promise<Set<string>> {
    const inRoom = new Set<string>();
    for (let i = 0; i < connectionIds.length; i += 100) {
      const items = await batchGetAll(this.db, {
        TableName: this.tables.connections,
        Keys: connectionIds.slice(i, i + 100).map((connectionId) => ({ connectionId })),
        ProjectionExpression: 'connectionId, roomId',
      });
      for (const item of items) if (item.roomId === roomId) inRoom.add(item.connectionId as string);
    }
    return inRoom;
  }

  /** Notes that a connection may have missed the room's messages after `afterSeq` (an earlier note is kept). */
  async markResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET resyncAfter = if_not_exists(resyncAfter, :none)',
          ConditionExpression: 'attribute_exists(roomId)',
          ExpressionAttributeValues: { ':none': {} },
        }),
      ),
    );
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET resyncAfter.#c = :after',
          ConditionExpression:
            '(attribute_not_exists(resyncAfter.#c) AND size(resyncAfter) < :cap) OR resyncAfter.#c > :after',
          ExpressionAttributeNames: { '#c': connectionId },
          ExpressionAttributeValues: { ':after': afterSeq, ':cap': MAX_RESYNC_NOTES },
        }),
      ),
    );
  }

  /** The room's resync notes (connection id -> afterSeq), read consistently: what a repost's members are owed. */
  async resyncNotes(roomId: string): Promise<Record<string, number>> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.rooms,
        Key: { roomId },
        ProjectionExpression: 'resyncAfter',
        ConsistentRead: true,
      }),
    );
    return (Item?.resyncAfter as Record<string, number> | undefined) ?? {};
  }

  /** Forgets a connection's resync note once its resync frame was posted (unless a newer note replaced it). */
  async clearResync(roomId: string, connectionId: string, afterSeq: number): Promise<void> {
    await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'REMOVE resyncAfter.#c',
          ConditionExpression: 'resyncAfter.#c = :after',
          ExpressionAttributeNames: { '#c': connectionId },
          ExpressionAttributeValues: { ':after': afterSeq },
        }),
      ),
    );
  }

  /** Drops the resync notes of these connections (members who left the room), 100 per write. */
  async forgetResync(roomId: string, connectionIds: readonly string[]): Promise<void> {
    for (let i = 0; i < connectionIds.length; i += 100) {
      const ids = connectionIds.slice(i, i + 100);
      await applied(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.rooms,
            Key: { roomId },
            UpdateExpression: `REMOVE ${ids.map((_, n) => `resyncAfter.#c${n}`).join(', ')}`,
            ConditionExpression: 'attribute_exists(resyncAfter)',
            ExpressionAttributeNames: Object.fromEntries(ids.map((id, n) => [`#c${n}`, id])),
          }),
        ),
      );
    }
  }

  private async room(roomId: string): Promise<RoomItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.rooms, Key: { roomId }, ConsistentRead: true }),
    );
    return Item as RoomItem | undefined;
  }

  /** The cycle the lease's holder took (after leaseFrom up to `upto`), as its claim or release answered it. */
  private async heldCycle(roomId: string, room: RoomItem, upto: number): Promise<Cycle> {
    const from = room.leaseFrom ?? upto - 1;
    const plan = await this.plan(roomId, from, upto);
    return { ...plan, resync: room.resyncAfter ?? {} };
  }

  /** The cycle after `cursor`: at most MESSAGES_PER_CYCLE messages, and the frames they take per member. */
  private async plan(roomId: string, cursor: number, roomSeq: number): Promise<Omit<Cycle, 'resync'>> {
    const uptoSeq = Math.min(roomSeq, cursor + MESSAGES_PER_CYCLE);
    const frames = framesOf(roomId, await this.messages(roomId, cursor, uptoSeq)).length;
    return { afterSeq: cursor, uptoSeq, frames: Math.max(1, frames) };
  }

  /**
   * Takes the lease if it is free or expired and the cursor is still `cursor` (undefined: never set), moving the
   * cursor to `upto`, the cycle starting at `from` (default `cursor`); with `roomSeq`, only if the room's seq is that
   * and the lease was released (the quiet case). The room's item as it is now, or undefined when a condition failed.
   */
  private async takeLease(
    roomId: string,
    owner: string,
    now: number,
    at: { cursor: number | undefined; upto: number; roomSeq?: number; from?: number },
  ): Promise<RoomItem | undefined> {
    // A room without a cursor has had nothing delivered: only a cursor of 0 may also match an unset one.
    const cursorIs =
      at.cursor === undefined
        ? 'attribute_not_exists(deliveredSeq)'
        : at.cursor === 0
          ? '(attribute_not_exists(deliveredSeq) OR deliveredSeq = :cursor)'
          : 'deliveredSeq = :cursor';
    let item: RoomItem | undefined;
    const taken = await applied(async () => {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression:
            'SET leaseOwner = :me, leaseUntil = :until, deliveredSeq = :upto, leaseFrom = :from, leaseShard = :shard',
          ConditionExpression: [
            'attribute_exists(roomId)',
            '(attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
            cursorIs,
            // The quiet case takes only a released lease: an expired one's cycle is redelivered (claim's loop).
            ...(at.roomSeq === undefined ? [] : ['seq = :seq', 'attribute_not_exists(leaseOwner)']),
          ].join(' AND '),
          ExpressionAttributeValues: {
            ':me': owner,
            ':until': now + LEASE_MS,
            ':now': now,
            ':upto': at.upto,
            ':from': at.from ?? at.cursor ?? 0,
            ':shard': leaseShardOf(roomId),
            ...(at.cursor === undefined ? {} : { ':cursor': at.cursor }),
            ...(at.roomSeq === undefined ? {} : { ':seq': at.roomSeq }),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      item = Attributes as RoomItem | undefined;
    });
    return taken ? item : undefined;
  }
}
