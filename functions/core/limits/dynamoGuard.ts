import { type AttributeValue, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { Busy } from '#core/errors';
import type { LobbyPostStore } from '#core/lobby';
import type { Connection } from '#core/ports';
import type { GuardStore } from './guard';
import type { PersonBucketStore } from './personRate';
import type { QuotaStore } from './quotas';
import type { SourcePlaceStore } from './sourceCap';

/**
 * The item DynamoDB returns with a failed condition (ReturnValuesOnConditionCheckFailure: ALL_OLD), as plain
 * values: the document client does not unmarshall an error's fields, so it comes in DynamoDB's attribute-value form.
 * Undefined when there is no item.
 */
function itemOf(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return item ? unmarshall(item) : undefined;
}

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/** A count on the connection item that starts again with each window: the window's attribute and the count's. */
interface WindowCounter {
  window: string;
  count: string;
}
const FRAMES: WindowCounter = { window: 'frameWindow', count: 'frameCount' };
const STRIKES: WindowCounter = { window: 'strikeWindow', count: 'strikes' };

/** A windowed count's end: the item as counted; as stored with a later window (counting nothing); or no count. */
type Counted =
  | { kind: 'counted'; item: Record<string, unknown> }
  | { kind: 'later'; item: Record<string, unknown> }
  | { kind: 'none' };

/**
 * The guard's counters in DynamoDB: the frame window (`frameWindow`, `frameCount`) and the strike window
 * (`strikeWindow`, `strikes`) on the connection item, each one conditional UpdateItem; the join-guess buckets of sources in the Limits table
 * (`fullAt`, guard.ts), with a TTL.
 */
/** Conditional writes one take of a bucket tries while other takes move it (each write follows the last one's find). */
const MAX_TAKE_WRITES = 8;

export class DynamoGuardStore implements GuardStore, LobbyPostStore, QuotaStore, PersonBucketStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly connectionsTable: string,
    /** Only the functions that count join guesses and quotas are given the Limits table. */
    private readonly limitsTable: string | undefined,
  ) {}

  async countFrame(
    connectionId: string,
    window: number,
    frames = 1,
  ): Promise<{ count: number; connection: Connection } | undefined> {
    // Whatever the count (the guard compares it with the limit), so a refused frame costs this one write.
    const counted = await this.countInWindow(connectionId, FRAMES, window, frames);
    if (counted.kind === 'none') return undefined;
    const connection = counted.item as unknown as Connection;
    // A window that moved on twice past this frame's (a clock far behind): count nothing, admit nothing.
    if (counted.kind === 'later') return { count: Number.POSITIVE_INFINITY, connection };
    return { count: Number(counted.item.frameCount ?? 0), connection };
  }

  async markClosing(connectionId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.connectionsTable,
          Key: { connectionId },
          UpdateExpression: 'SET closing = :yes',
          // Never makes an item for a connection already gone.
          ConditionExpression: 'attribute_exists(connectionId)',
          ExpressionAttributeValues: { ':yes': true },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async strike(connectionId: string, window: number): Promise<number> {
    const counted = await this.countInWindow(connectionId, STRIKES, window);
    // The connection is gone, or its window moved on twice past this one (a clock far behind): nothing to count.
    return counted.kind === 'counted' ? Number(counted.item.strikes ?? 0) : 0;
  }

  /**
   * One more in a counter of the connection item that starts again with each window: one more in the stored window;
   * else a new window starting at 1, if the stored one is older (or none); else, when another write of the connection
   * opened this window in between, one more in it after all. Each one conditional UpdateItem, so concurrent counts
   * never lose one. The item that failed a condition comes back with the failure: no item means no connection (the
   * attempts end); a later window than this one is counted in (below).
   */
  private async countInWindow(
    connectionId: string,
    counter: WindowCounter,
    window: number,
    by = 1,
  ): Promise<Counted> {
    const values = { ':one': by, ':w': window };
    let behind = false;
    const inWindow = {
      UpdateExpression: `ADD ${counter.count} :one`,
      ConditionExpression: `${counter.window} = :w`,
    };
    const newWindow = {
      UpdateExpression: `SET ${counter.window} = :w, ${counter.count} = :one`,
      ConditionExpression: `attribute_exists(connectionId) AND (attribute_not_exists(${counter.window}) OR ${counter.window} < :w)`,
    };
    const attempts = [inWindow, newWindow, inWindow];
    for (let next = attempts.shift(); next !== undefined; next = attempts.shift()) {
      const attempt = next;
      try {
        const { Attributes } = await this.db.send(
          new UpdateCommand({
            TableName: this.connectionsTable,
            Key: { connectionId },
            ...attempt,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { kind: 'counted', item: Attributes ?? {} };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const old = itemOf(error);
        if (!old) return { kind: 'none' };
        const stored = old[counter.window];
        if (typeof stored === 'number' && stored > values[':w']) {
          // Another write of the connection has opened a later window: two of its frames crossed a window's end in
          // different functions (a frame's window is taken when its function starts; their clocks differ by a
          // little). The frame still happened: it is one more in the stored window, once; only a window that has
          // moved again since (a clock far behind) counts nothing.
          if (behind) return { kind: 'later', item: old };
          behind = true;
          values[':w'] = stored;
          attempts.splice(0, attempts.length, inWindow);
        }
      }
    }
    return { kind: 'none' };
  }

  private limits(): string {
    if (!this.limitsTable)
      throw new Error('roomcast configuration: environment variable LIMITS_TABLE is not set');
    return this.limitsTable;
  }

  takeGuess(bucket: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean> {
    return this.take(`join#${bucket}`, nowMs, intervalMs, limit);
  }

  async giveGuessBack(bucket: string, intervalMs: number): Promise<void> {
    // One interval off `fullAt`: the bucket holds one guess more. A bucket that is full again by now (fullAt in the
    // past) stays full, whatever fullAt reads; one that is gone (its TTL) has nothing to give back to.
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limits(),
          Key: { limitKey: `join#${bucket}` },
          UpdateExpression: 'SET fullAt = fullAt - :interval',
          ConditionExpression: 'attribute_exists(fullAt)',
          ExpressionAttributeValues: { ':interval': intervalMs },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Takes the turn `key` at `nowMs` if its last was at least `intervalMs` ago: one conditional write, so concurrent
   * takers get one turn per interval. Kept a minute past its interval (TTL deletes late; the condition decides).
   */
  async takeTurn(key: string, nowMs: number, intervalMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limits(),
          Key: { limitKey: key },
          UpdateExpression: 'SET turnAt = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(turnAt) OR turnAt <= :due',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':at': nowMs,
            ':due': nowMs - intervalMs,
            ':ttl': Math.ceil((nowMs + intervalMs) / 1000) + 60,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * takeTurn, answering how long is left instead of false: 0 when the turn was taken, else the ms until the last turn
   * is `intervalMs` old (from the item the refused condition returns; no read).
   */
  async takeTurnOrWait(key: string, nowMs: number, intervalMs: number): Promise<number> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limits(),
          Key: { limitKey: key },
          UpdateExpression: 'SET turnAt = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(turnAt) OR turnAt <= :due',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':at': nowMs,
            ':due': nowMs - intervalMs,
            ':ttl': Math.ceil((nowMs + intervalMs) / 1000) + 60,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 0;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const last = Number((error as { Item?: { turnAt?: { N?: string } } }).Item?.turnAt?.N ?? nowMs);
      return Math.max(1, last + intervalMs - nowMs);
    }
  }

  takeLobbyPost(source: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean> {
    return this.take(`lobby#${source}`, nowMs, intervalMs, limit);
  }

  async take(bucket: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean> {
    return (await this.takeOrWait(bucket, nowMs, intervalMs, limit)).taken;
  }

  /**
   * take, answering also how long the bucket is empty from `nowMs` as its write saw it (after the take, if taken):
   * the ms until `fullAt` is no more than limit - 1 intervals ahead (`last` moves with now), 0 with a token left.
   */
  async takeOrWait(
    bucket: string,
    nowMs: number,
    intervalMs: number,
    limit: number,
  ): Promise<{ taken: boolean; waitMs: number }> {
    // A bucket with a token left (fullAt from now to limit - 1 intervals ahead) moves on by one interval; an idle
    // one (none yet, or full again: fullAt before now) starts from now. One conditional write each, so concurrent
    // takes never get more than the bucket holds, and a refused take takes nothing. A write whose condition fails
    // returns the item as it is now, and the next write is the one that item calls for: other joins taking and
    // giving back (a right code's refund) move fullAt across `now` between writes, so only an item seen past `last`
    // refuses. Churn that outlasts MAX_TAKE_WRITES is answered Busy (retried), never as an empty bucket.
    // The TTL is the latest time the bucket can be full again.
    const Key = { limitKey: bucket };
    const ttl = Math.ceil((nowMs + limit * intervalMs) / 1000);
    const names = { '#ttl': 'ttl' };
    const last = nowMs + (limit - 1) * intervalMs;
    const busy = {
      UpdateExpression: 'SET fullAt = fullAt + :interval, #ttl = :ttl',
      ConditionExpression: 'fullAt >= :now AND fullAt <= :last',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':interval': intervalMs, ':ttl': ttl, ':now': nowMs, ':last': last },
    };
    const idle = {
      UpdateExpression: 'SET fullAt = :fullAt, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(fullAt) OR fullAt < :now',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':fullAt': nowMs + intervalMs, ':ttl': ttl, ':now': nowMs },
    };
    let attempt: typeof busy | typeof idle = busy;
    for (let write = 0; write < MAX_TAKE_WRITES; write++) {
      try {
        const written = await this.db.send(
          new UpdateCommand({
            TableName: this.limits(),
            Key,
            ...attempt,
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        // The bucket as this take left it (UPDATED_NEW): empty until fullAt is no more than `last`.
        const fullAt = Number(written?.Attributes?.fullAt ?? 0);
        return { taken: true, waitMs: Math.max(0, fullAt - last) };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const fullAt = itemOf(error)?.fullAt;
        if (typeof fullAt === 'number' && fullAt > last) return { taken: false, waitMs: fullAt - last };
        attempt = typeof fullAt === 'number' && fullAt >= nowMs ? busy : idle;
      }
    }
    throw new Busy('write-conflicts');
  }
}

/** The live connections of each source (sourceCap.ts), one item per source in the Limits table. */
export class DynamoSourcePlaces implements SourcePlaceStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly limitsTable: string,
  ) {}

  private key = (source: string) => ({ limitKey: `connections#${source}` });

  async claim(
    source: string,
    connectionId: string,
    nowMs: number,
    cap: number,
    expiresAt: number,
  ): Promise<{ claimed: true } | { claimed: false; places: Record<string, number> }> {
    // A place in the source's map while it has fewer than `cap`; else the map itself for the source's first
    // connection; else, if another handshake made the map in between, a place in it after all. A full map comes
    // back with the failed write, and ends the attempts: a refused handshake costs that one write.
    const names = { '#id': connectionId, '#ttl': 'ttl' };
    const addPlace = {
      UpdateExpression: 'SET places.#id = :now, #ttl = :ttl',
      ConditionExpression: 'size(places) < :cap',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':now': nowMs, ':ttl': expiresAt, ':cap': cap },
    };
    const firstPlace = {
      UpdateExpression: 'SET places = :places, #ttl = :ttl',
      ConditionExpression: 'attribute_not_exists(places)',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':places': { [connectionId]: nowMs }, ':ttl': expiresAt },
    };
    let places: Record<string, number> = {};
    for (const attempt of [addPlace, firstPlace, addPlace]) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.limitsTable,
            Key: this.key(source),
            ...attempt,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { claimed: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const held = itemOf(error)?.places as Record<string, number> | undefined;
        if (held) {
          places = held;
          if (Object.keys(held).length >= cap) break;
        }
      }
    }
    return { claimed: false, places };
  }

  async touch(source: string, connectionId: string, fromMs: number, toMs: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(source),
          UpdateExpression: 'SET places.#id = :to',
          ConditionExpression: 'places.#id = :from',
          ExpressionAttributeNames: { '#id': connectionId },
          ExpressionAttributeValues: { ':from': fromMs, ':to': toMs },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async release(source: string, connectionIds: string[]): Promise<void> {
    if (connectionIds.length === 0) return;
    const names = Object.fromEntries(connectionIds.map((id, i) => [`#c${i}`, id]));
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(source),
          UpdateExpression: `REMOVE ${Object.keys(names)
            .map((name) => `places.${name}`)
            .join(', ')}`,
          // Never creates an item: a source without one has nothing to give back.
          ConditionExpression: 'attribute_exists(places)',
          ExpressionAttributeNames: names,
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
