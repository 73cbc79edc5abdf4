import { unmarshall } from '@aws-sdk/util-dynamodb';
import { MUTE_PREFIX, mutedUntil } from '#core/moderation';
import type { Room, RoomLife } from '#core/ports';
import type { NewSendRecord, SendRecord } from './ports';

/** The tables a room event (a message, or a change to one) is written to. */
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

/**
 * The write that takes a room's next seq: `ADD seq :1` on the room's item, returning the previous values, only while
 * the room lives (with `life`: not closed, TTL not passed, so no event lands in an ended room; the lobby's row appears
 * with its first event). The same write moves the room's end on, notes when the seq was taken (`seqAt`, epoch ms), and
 * marks the room **awake** (`awake`: when a take first found it asleep) unless it is already: the fan-out clears the
 * mark once it has posted every seq taken (deliver/roomLog.ts), so the take that finds no mark (`UPDATED_OLD` answers
 * none) wakes the room's fan-out (appending.ts). The room's item holds no moderation state, so the write costs 1 WCU
 * (DynamoDB bills it by the item's size, 1 per KB): the mutes and removed names are on the room's moderation item
 * (core/moderation.ts), read after the take when the previous values (`ALL_OLD`; no capacity beyond the write's own)
 * say the room is `moderated` (dynamoSends.ts, moderationRefusal). The condition still refuses an author whose name
 * or mute an entry of the older layout holds on the room's item (`removedNames`, `mute#<key>`): a condition costs
 * nothing. From the previous values the send also reads the room's slow mode and whether the author is exempt
 * (sending.ts). No transaction: sends never conflict.
 */
export function takeSeqUpdate(tables: SendTables, roomId: string, at: number, life?: RoomLife) {
  const base = 'ADD seq :one SET seqAt = :at, awake = if_not_exists(awake, :at)';
  return {
    TableName: tables.rooms,
    Key: { roomId },
    UpdateExpression: life ? `${base}, #ttl = :ttl` : base,
    ...(life && {
      ConditionExpression: `attribute_exists(roomId) AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)${
        life.shownAs === undefined ? '' : ' AND NOT contains(removedNames, :author)'
      }${life.memberKey === undefined ? '' : ' AND (attribute_not_exists(#mute) OR #mute.#until <= :now)'}`,
      ExpressionAttributeNames: {
        '#ttl': 'ttl',
        ...(life.memberKey !== undefined && {
          '#mute': `${MUTE_PREFIX}${life.memberKey}`,
          '#until': 'until',
        }),
      },
    }),
    ExpressionAttributeValues: {
      ':one': 1,
      ':at': at,
      ...(life && { ':ttl': life.ttl, ':now': life.nowSeconds }),
      ...(life?.shownAs !== undefined && { ':author': life.shownAs }),
    },
    ReturnValues: life ? ('ALL_OLD' as const) : ('UPDATED_OLD' as const),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/**
 * Why a room refused a seq, from the item its failed condition returned: no item, no such room; the author's name
 * removed by the owner (`life.shownAs`); else it was closed or its TTL passed (DynamoDB deletes late).
 */
export function seqRefusal(item: Record<string, unknown> | undefined, life?: RoomLife) {
  if (item === undefined) return { kind: 'noRoom' as const };
  const removed = item.removedNames as Set<string> | undefined;
  const ended = item.closedAt !== undefined || (life !== undefined && Number(item.ttl) <= life.nowSeconds);
  if (!ended && life?.shownAs !== undefined && removed?.has(life.shownAs))
    return { kind: 'removed' as const };
  const muted =
    life?.memberKey === undefined
      ? undefined
      : mutedUntil(item as unknown as Room, life.memberKey, life.nowSeconds);
  if (!ended && muted !== undefined) return { kind: 'muted' as const, until: muted };
  return { kind: 'roomGone' as const, room: item as unknown as Room };
}

/**
 * Why a seq taken in a room is refused by the room's moderation state (the room's item with its moderation item,
 * core/moderation.ts withModeration): the author's name removed (`life.shownAs`), or the author muted at `nowSeconds`.
 */
export function moderationRefusal(
  room: Room,
  life: RoomLife,
): { kind: 'removed' } | { kind: 'muted'; until: number } | undefined {
  if (life.shownAs !== undefined && room.removedNames?.has(life.shownAs)) return { kind: 'removed' };
  const muted = life.memberKey === undefined ? undefined : mutedUntil(room, life.memberKey, life.nowSeconds);
  return muted === undefined ? undefined : { kind: 'muted', until: muted };
}

/** The event put under its seq, only if the seq is free. */
export function putEvent(tables: SendTables, event: RoomEvent, expiresAt: number) {
  return {
    TableName: tables.messages,
    Item: { ...event, ttl: expiresAt },
    ConditionExpression: 'attribute_not_exists(seq)',
  };
}

/** A gap marker: the seq was taken and will never hold an event (history and the fan-out skip it at once). */
export function putGap(tables: SendTables, roomId: string, seq: number, expiresAt: number) {
  return {
    TableName: tables.messages,
    Item: { roomId, seq, gap: true, ttl: expiresAt },
    ConditionExpression: 'attribute_not_exists(seq)',
  };
}

/** The event's idempotency record, put only if its key is free; the record found is returned when it is not. */
export function putRecord(tables: SendTables, event: Omit<RoomEvent, 'roomId'>, record: NewSendRecord) {
  return {
    TableName: tables.sends,
    Item: {
      sendKey: record.sendKey,
      messageId: event.messageId,
      seq: event.seq,
      sentAt: event.sentAt,
      attempt: record.attempt,
      ttl: record.expiresAt,
    },
    ConditionExpression: 'attribute_not_exists(sendKey)',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/**
 * DynamoDB's cancellation reasons of a transaction, in the order of its items. The document client leaves their
 * items in DynamoDB's own attribute-value form.
 */
type Reasons = { Code?: string; Item?: Parameters<typeof unmarshall>[0] }[];

/** The reasons a cancelled transaction gives, one per item (empty for an item that did not fail). */
export function cancellationReasons(error: unknown): Reasons {
  if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
  return ((error as { CancellationReasons?: Reasons }).CancellationReasons ?? []).map(
    (reason) => reason ?? {},
  );
}

export const conditionFailed = (reason?: { Code?: string }) => reason?.Code === 'ConditionalCheckFailed';

/** The record a retry found in place of its own (in a transaction's cancellation reason): the first attempt's. */
export function recordFound(sent: Reasons[number] | undefined): SendRecord | undefined {
  if (!conditionFailed(sent) || sent?.Item === undefined) return undefined;
  return asRecord(unmarshall(sent.Item));
}

/** A stored send record as the domain sees it: without its TTL. */
export function asRecord(item: Record<string, unknown>): SendRecord {
  const { ttl: _ttl, ...found } = item;
  return found as unknown as SendRecord;
}
