import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type ClaimResult, type Cycle, framesOf, LEASE_MS, MESSAGES_PER_CYCLE } from './coalescing';
import type { DynamoRoomReads } from './dynamoRoomReads';
import { applied, type FanoutTables, type RoomItem } from './dynamoWrites';
import { leaseShardOf } from './leaseSweep';
import { COUNT_RESTART, COUNT_RESTART_VALUES, type Restart, restartOwed } from './restarts';

/**
 * A room's delivery lease and cursor on its item (coalescing.ts): claimed by one execution at a time, renewed while it
 * delivers, released when nothing arrived meanwhile (else its next cycle), handed over past its time, abandoned when
 * its cycle failed. Every write is conditional, so a step run twice finds its own lease.
 */

/**
 * What a failed claim's clean-up did: abandoned the lease the claim took (`pendingSeq`: a successor is owed), left
 * the room's undelivered messages to the sweep, or touched nothing.
 */
export type FailedClaimOutcome =
  | ({ abandoned: true } & Restart)
  | { leftForSweep: true }
  | { untouched: true };

/** Races for the lease one execution tries before it counts itself coalesced. */
const CLAIM_TRIES = 5;

export class DynamoLease {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: FanoutTables,
    private readonly reads: DynamoRoomReads,
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
   * drop a seq they hold) and the lease is freed. Whether a successor should deliver what is left: up to
   * MAX_RESTARTS per newest event (restarts.ts), so a failure that lasts does not start executions without end.
   */
  async abandon(roomId: string, owner: string): Promise<Restart> {
    return (await this.freeLease(roomId, owner)) ?? {};
  }

  /**
   * After `owner`'s claim failed past its retries (the state machine's HandOnFailedClaim), one conditional write each
   * way: a lease the claim took is abandoned as `abandon` does; a free lease with messages after the cursor, which
   * nobody is delivering, becomes an expired lease of `owner` from the cursor, so the room is in the lease index and
   * the next sweep recovers it (its successors bounded per newest event, restarts.ts), while a new message's claim
   * takes it at once. A lease held by another execution, or nothing pending: nothing is written. Run again, it finds
   * its own expired lease and abandons it: the successor starts at once, within the same bound.
   */
  async afterFailedClaim(roomId: string, owner: string, now: number): Promise<FailedClaimOutcome> {
    const abandoned = await this.freeLease(roomId, owner);
    if (abandoned) return { abandoned: true, ...abandoned };
    const left = await applied(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression:
            'SET leaseOwner = :me, leaseUntil = :expired, leaseFrom = if_not_exists(deliveredSeq, :none), leaseShard = :shard',
          ConditionExpression: [
            'attribute_exists(roomId)',
            'attribute_not_exists(leaseOwner)',
            '(deliveredSeq < seq OR (attribute_not_exists(deliveredSeq) AND seq > :none))',
          ].join(' AND '),
          ExpressionAttributeValues: {
            ':me': owner,
            // Already past: the sweep's Query (leaseUntil < now) and any claim's take see it expired.
            ':expired': now - 1,
            ':none': 0,
            ':shard': leaseShardOf(roomId),
          },
        }),
      ),
    );
    return left ? { leftForSweep: true } : { untouched: true };
  }

  /**
   * Frees `owner`'s lease, its cursor back to the cycle's start: undefined when it is not `owner`'s, else whether a
   * successor should deliver what is left (restarts.ts).
   */
  private async freeLease(roomId: string, owner: string): Promise<Restart | undefined> {
    let before: RoomItem & { restarts?: number } = { roomId };
    const done = await applied(async () => {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: `SET deliveredSeq = leaseFrom, ${COUNT_RESTART} REMOVE leaseOwner, leaseUntil, leaseFrom, leaseShard`,
          ConditionExpression: 'leaseOwner = :me AND attribute_exists(leaseFrom)',
          ExpressionAttributeValues: { ':me': owner, ...COUNT_RESTART_VALUES },
          ReturnValues: 'ALL_OLD',
        }),
      );
      before = (Attributes ?? before) as typeof before;
    });
    return done ? restartOwed(before) : undefined;
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
    const frames = framesOf(roomId, await this.reads.messages(roomId, cursor, uptoSeq)).length;
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
