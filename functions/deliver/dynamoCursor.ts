import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { roomKeyLevel } from '#core/aws/roomMembers';
import { isGapMarker } from '#core/gaps';
import { moderationItemId, withModeration } from '#core/moderation';
import type { EventPublisher, Room } from '#core/ports';
import { toMessage } from '#core/storedItems';
import { roomFrameOf } from '#messages/changeFrames';
import { isConditionFailure } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import { logger } from '#platform/powertools';
import { realPauses, retryingThrottles, type ThrottlePauses } from './dynamoThrottles';
import type { CursorItem, LogEntry, LogStore, RoomCursor, RoomHead } from './roomLog';

/**
 * The room's fan-out cursor in the Limits table (Deliver may read and the fan-out machine may write only keys under
 * this prefix): `high`, `posted`, `version`, `ttl`.
 */
const cursorKey = (roomId: string) => `fanout-cursor#${roomId}`;

/**
 * The room's log as the fan-out reads it (deliver/roomLog.ts) in DynamoDB: the cursor, one item per room in the
 * Limits table, read once per cycle and saved by the machine; the room's counter and awake mark on its item in Rooms;
 * its stored events in Messages, and the gap markers that fence a seq never stored. Every read is strongly consistent,
 * and ridden through DynamoDB's throttling (dynamoThrottles.ts): a cursor read wrong would post a room's messages
 * again, a log read wrong would pass them. A hand-off's wake goes on the chat bus, as a send's does.
 */
export class DynamoCursorStore implements LogStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: { limits: string; messages: string; rooms: string },
    /** A cursor (and a fence) outlives its room's last execution by the messages' retention: gone only with them. */
    private readonly ttlSeconds: number,
    /** The chat bus, for a hand-off's wake. */
    private readonly events: EventPublisher,
    /** The pauses between reads DynamoDB throttled (a test's own clock). */
    private readonly pauses: ThrottlePauses = realPauses,
  ) {}

  /** A write of the fan-out's, ridden through DynamoDB's throttling and through an owner's transaction on its item. */
  private write(command: PutCommand | UpdateCommand): Promise<unknown> {
    return retryingThrottles(
      () => retryingConflicts(() => this.db.send(command as UpdateCommand)),
      this.pauses,
    );
  }

  async cursor(roomId: string): Promise<RoomCursor | undefined> {
    const { Item } = await retryingThrottles(
      () =>
        this.db.send(
          new GetCommand({
            TableName: this.tables.limits,
            Key: { limitKey: cursorKey(roomId) },
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    if (!Item) return undefined;
    return {
      high: Number(Item.high ?? 0),
      version: Number(Item.version ?? 0),
      ...(Item.posted !== undefined && { posted: Number(Item.posted) }),
    };
  }

  async head(roomId: string): Promise<RoomHead> {
    const { Item } = await retryingThrottles(
      () =>
        this.db.send(
          new GetCommand({
            TableName: this.tables.rooms,
            Key: { roomId },
            ProjectionExpression: 'seq, keyLevel, removedNames, moderated, createdAt',
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    // The removed names are on the room's moderation item, read only for a room that has one (core/moderation.ts).
    const moderation =
      Item?.moderated === true
        ? (
            await retryingThrottles(
              () =>
                this.db.send(
                  new GetCommand({
                    TableName: this.tables.rooms,
                    Key: { roomId: moderationItemId(roomId) },
                    ProjectionExpression: '#room, removedNames',
                    ExpressionAttributeNames: { '#room': 'room' },
                    ConsistentRead: true,
                  }),
                ),
              this.pauses,
            )
          ).Item
        : undefined;
    const room = Item && withModeration(Item as Partial<Room>, moderation);
    return {
      seq: Number(Item?.seq ?? 0),
      keyLevel: roomKeyLevel(roomId, Item?.keyLevel),
      removed: [...(room?.removedNames ?? [])],
    };
  }

  async storedAfter(roomId: string, afterSeq: number, limit: number): Promise<LogEntry[]> {
    const { Items } = await retryingThrottles(
      () =>
        this.db.send(
          new QueryCommand({
            TableName: this.tables.messages,
            KeyConditionExpression: 'roomId = :room AND seq > :after',
            ExpressionAttributeValues: { ':room': roomId, ':after': afterSeq },
            Limit: limit,
            ConsistentRead: true,
          }),
        ),
      this.pauses,
    );
    return (Items ?? []).map(entryOf);
  }

  async fence(roomId: string, seq: number): Promise<LogEntry | undefined> {
    try {
      // A change's transaction may hold the seq's item for a moment: the write waits it out.
      await this.write(
        new PutCommand({
          TableName: this.tables.messages,
          Item: { roomId, seq, gap: true, ttl: Math.floor(Date.now() / 1000) + this.ttlSeconds },
          ConditionExpression: 'attribute_not_exists(seq)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
      if (item) return entryOf(unmarshall(item));
      const [stored] = await this.storedAfter(roomId, seq - 1, 1);
      return stored?.seq === seq ? stored : { seq };
    }
  }

  /**
   * The sleep's write, ridden through throttling and an owner's transaction on the room's item; still refused by
   * anything but its condition, the room stays awake (false): the reader reads on, and hands it on at its turn's end.
   */
  async sleep(roomId: string, seq: number): Promise<boolean> {
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'REMOVE awake',
          ConditionExpression: 'seq = :seq',
          ExpressionAttributeValues: { ':seq': seq },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error))
        logger.warn('fan-out could not put a room to sleep: it stays awake', { roomId, error });
      return false;
    }
  }

  /**
   * The hand-off: the mark renewed (a take then finds the room awake and leaves it to this wake) and a wake on the bus.
   * Neither failing fails the room: a mark not renewed goes stale, and a take after AWAKE_STALE_MS wakes the room.
   */
  async handOff(roomId: string, high: number): Promise<void> {
    const now = Date.now();
    try {
      await this.write(
        new UpdateCommand({
          TableName: this.tables.rooms,
          Key: { roomId },
          UpdateExpression: 'SET awake = :now',
          ConditionExpression: 'attribute_exists(roomId)',
          ExpressionAttributeValues: { ':now': now },
        }),
      );
    } catch (error) {
      // A room deleted meanwhile (its TTL, its close) has nothing to renew.
      if (!isConditionFailure(error))
        logger.warn("fan-out could not renew a room's awake mark", { roomId, error });
    }
    try {
      await this.events.publish([
        { type: 'RoomWake', messageId: `handoff:${roomId}:${high}:${now}`, roomId, seq: high + 1 },
      ]);
    } catch (error) {
      logger.warn('fan-out could not hand a room on: a take after AWAKE_STALE_MS wakes it', {
        roomId,
        error,
      });
    }
  }

  itemOf(
    roomId: string,
    high: number,
    read: RoomCursor | undefined,
    nowSeconds: number,
  ): Omit<CursorItem, 'posted'> {
    const version = read?.version ?? 0;
    return {
      key: cursorKey(roomId),
      high: String(high),
      read: String(version),
      next: String(version + 1),
      ttl: String(nowSeconds + this.ttlSeconds),
    };
  }
}

function entryOf(item: Record<string, unknown>): LogEntry {
  return isGapMarker(item)
    ? { seq: Number(item.seq) }
    : { seq: Number(item.seq), payload: JSON.stringify(roomFrameOf(toMessage(item))) };
}
