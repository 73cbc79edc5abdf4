import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Room, RoomLife, SendRecord } from '../../domain/ports';
import { roomEnd } from '../../domain/rooms/roomLife';

/** The tables a room event (a message, or a change to one) is written to in its one transaction. */
export interface SendTables {
  rooms: string;
  messages: string;
  sends: string;
}

/** What a room event carries that its writes need: where it goes and what names it. */
interface RoomEvent {
  roomId: string;
  seq: number;
  messageId: string;
  sentAt: string;
}

/** A send's idempotency record: its key, who publishes it, when it expires. */
export interface EventRecord {
  sendKey: string;
  publisher: string;
  /** When the publisher's invocation ends (epoch ms; SendRecord.publishUntil). */
  publishUntil?: number;
  expiresAt: number;
}

/**
 * The first two writes of every room event's transaction: the room's seq moves on from `roomSeq` (and with `life`
 * its end moves to RoomIdleDays from now, only while the room lives: not closed, TTL not passed, so an event never
 * lands in an ended room), and the event is put under that seq if it is free.
 */
export function takeSeqAndPut(
  tables: SendTables,
  event: RoomEvent,
  roomSeq: number | undefined,
  expiresAt: number,
  life?: RoomLife,
) {
  // The lobby's row appears with its first message; every other room must have been created. A new event clears the
  // count of successors started for the one before (functions/domain/fanout/restarts.ts): it gets its own.
  const roomCondition = roomSeq === undefined ? 'attribute_not_exists(roomId)' : 'seq = :was';
  return [
    {
      Update: {
        TableName: tables.rooms,
        Key: { roomId: event.roomId },
        ...(life
          ? {
              UpdateExpression: 'SET seq = :seq, #ttl = :ttl REMOVE restarts',
              ConditionExpression: `${roomCondition} AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)`,
              ExpressionAttributeNames: { '#ttl': 'ttl' },
            }
          : { UpdateExpression: 'SET seq = :seq REMOVE restarts', ConditionExpression: roomCondition }),
        ExpressionAttributeValues: {
          ':seq': event.seq,
          ...(roomSeq !== undefined && { ':was': roomSeq }),
          ...(life && { ':ttl': life.ttl, ':now': life.nowSeconds }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    },
    {
      Put: {
        TableName: tables.messages,
        Item: { ...event, ttl: expiresAt },
        ConditionExpression: 'attribute_not_exists(seq)',
      },
    },
  ];
}

/** The event's idempotency record, put only if its key is free (none without a clientMsgId). */
export function putRecord(tables: SendTables, event: RoomEvent, record: EventRecord | undefined) {
  if (record === undefined) return [];
  return [
    {
      Put: {
        TableName: tables.sends,
        Item: {
          sendKey: record.sendKey,
          messageId: event.messageId,
          seq: event.seq,
          sentAt: event.sentAt,
          publisher: record.publisher,
          ...(record.publishUntil !== undefined && { publishUntil: record.publishUntil }),
          ttl: record.expiresAt,
        },
        ConditionExpression: 'attribute_not_exists(sendKey)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    },
  ];
}

/**
 * DynamoDB's cancellation reasons of a transaction, in the order of its items. The document client leaves their
 * items in DynamoDB's own attribute-value form.
 */
export type Reasons = { Code?: string; Item?: Parameters<typeof unmarshall>[0] }[];

/** The reasons a cancelled transaction gives, one per item (empty for an item that did not fail). */
export function cancellationReasons(error: unknown): Reasons {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
  return ((error as { CancellationReasons?: Reasons }).CancellationReasons ?? []).map(
    (reason) => reason ?? {},
  );
}

export const conditionFailed = (reason?: { Code?: string }) => reason?.Code === 'ConditionalCheckFailed';

/** The record a retry found in place of its own: the first attempt's. */
export function recordFound(sent: Reasons[number] | undefined): SendRecord | undefined {
  if (!conditionFailed(sent) || sent?.Item === undefined) return undefined;
  const { ttl: _ttl, ...found } = unmarshall(sent.Item);
  return found as unknown as SendRecord;
}

/** Why the room refused the seq: it ended (with `life`), or another event took the seq first. */
export function roomRefusal(
  room: Reasons[number] | undefined,
  life: RoomLife | undefined,
): { kind: 'roomGone'; room: Room } | { kind: 'seqTaken'; roomSeq: number } | undefined {
  if (!conditionFailed(room) || room?.Item === undefined) return undefined;
  const found = unmarshall(room.Item) as Room;
  if (life && roomEnd(found, new Date(life.nowSeconds * 1000))) return { kind: 'roomGone', room: found };
  return { kind: 'seqTaken', roomSeq: Number(found.seq ?? 0) };
}
