// What a change to a message (edit, delete, reaction, pin) costs per million, at rooms of 10, 100 and 1,000. A change is
// a room event stored and fanned out as a message is (functions/messages/ (change*.ts)), so its cost is a message's from
// the same model (estimate), with the send's DynamoDB work replaced by the change's: a strongly consistent read of
// the message, and a transaction that also rewrites the message's item (with its reactions, for a reaction).

import { changeKinds } from '#messages/changeKinds/index';
import { pageReadUnits, roomMemberReadUnits, writeUnits } from './metering';
import { estimate } from './model';
import { METERING, PRICES, type PriceTable } from './prices';
import type { Assumptions } from './types';

export const CHANGE_ROOM_SIZES = [10, 100, 1000] as const;

/** A change, as the model prices it: the size of the message item it rewrites and of its own event item. */
interface PricedChange {
  name: string;
  targetItemBytes: (a: Assumptions, messageBytes: number) => number;
  eventItemBytes: (a: Assumptions, messageBytes: number) => number;
  /** Another item the change reads (strongly consistent) and rewrites in its transaction: a pin's room pins item. */
  sideItemBytes?: number;
}

/**
 * Every change kind the messages function serves (CHANGE_KINDS, one per change action), priced from the facts it
 * declares (`cost`, changeKinds/kind.ts ChangeCost): a new kind is priced as soon as it is served.
 */
const KINDS: PricedChange[] = changeKinds().map(({ cost }) => ({
  name: cost.name,
  targetItemBytes: (a, m) =>
    a.messageItemOverheadBytes + (cost.message.text ? m : 0) + cost.message.addedBytes,
  eventItemBytes: (a, m) => a.messageItemOverheadBytes + (cost.eventText ? m : 0),
  ...(cost.sideItemBytes !== undefined && { sideItemBytes: cost.sideItemBytes }),
}));

const usdPerUnit = (prices: PriceTable, id: 'dynamoWriteRequestUnits' | 'dynamoReadRequestUnits') =>
  prices[id].tiers[0]?.usd ?? 0;

/**
 * A message's own cost per million in a quiet room of each CHANGE_ROOM_SIZES size, and its posts: `estimate`'s total
 * without the month's fixed lines (connection minutes, custom metrics), which a change or a reply does not add to.
 */
export function messageCosts(
  a: Assumptions,
  prices: PriceTable,
  messageBytes: number,
): { usd: number; posts: number }[] {
  return CHANGE_ROOM_SIZES.map((roomSize) => {
    const report = estimate(
      { roomSize, messagesPerDay: 1e6 / 30, connections: roomSize, messageBytes, days: 30 },
      a,
      prices,
    );
    const fixed = report.designs.roomcast.items
      .filter(
        (item) =>
          item.priceId === 'apigwWsConnectionMinutes' || item.priceId === 'cloudwatchCustomMetricMonths',
      )
      .reduce((sum, item) => sum + item.usd, 0);
    return {
      usd: ((report.designs.roomcast.totalUsd - fixed) / report.messagesPerMonth) * 1e6,
      posts: report.delivery.postsPerMessage,
    };
  });
}

export interface ChangeCostRow {
  change: string;
  /** USD per million changes, by room size (CHANGE_ROOM_SIZES), quiet rooms: one post per member per change. */
  usdPerMillion: number[];
  /** Posts per change by room size, before coalescing (a busy room's changes share batch frames). */
  postsPerChange: number[];
}

/**
 * Per-million cost of each change in quiet rooms (every change its own post to each member; a busy room's share
 * batch frames and cost less): a message's per-message cost from `estimate`, without the month's fixed lines
 * (connection minutes, custom metrics), plus the change's own DynamoDB work over the send's.
 */
export function changeCosts(
  assumptions: Assumptions,
  prices: PriceTable = PRICES,
  messageBytes = 200,
): ChangeCostRow[] {
  const a = assumptions;
  const perMessage = messageCosts(a, prices, messageBytes);
  const sendItemUnits = writeUnits(a.messageItemOverheadBytes + messageBytes);
  return KINDS.map((kind) => {
    // In the transaction (twice a standard write): the event item instead of the message, plus the message's item.
    const extraWrites =
      METERING.transactionalWriteFactor *
      (writeUnits(kind.eventItemBytes(a, messageBytes)) -
        sendItemUnits +
        writeUnits(kind.targetItemBytes(a, messageBytes)) +
        (kind.sideItemBytes ? writeUnits(kind.sideItemBytes) : 0));
    const extraReads =
      pageReadUnits(kind.targetItemBytes(a, messageBytes), false) +
      (kind.sideItemBytes ? pageReadUnits(kind.sideItemBytes, false) : 0);
    const extraUsd =
      extraWrites * usdPerUnit(prices, 'dynamoWriteRequestUnits') +
      extraReads * usdPerUnit(prices, 'dynamoReadRequestUnits');
    return {
      change: kind.name,
      usdPerMillion: perMessage.map((m) => m.usd + extraUsd * 1e6),
      postsPerChange: perMessage.map((m) => m.posts),
    };
  });
}

/** Bytes a reply's item carries over a message's: `replyTo` with the original's seq and its author's name. */
const REPLY_REF_BYTES = 60;

/**
 * A reply, per million, in quiet rooms: a message's cost (it is stored and fanned out as one) plus what replying
 * adds: the original read beside the send token (one eventually consistent GetItem, sending.ts), the `replyTo` on
 * the item, and, when a `history` page shows the reply without its original, the original read for the quote
 * (one key of a BatchGetItem, rooms.ts withQuotes), counted once per reply.
 */
export function replyCosts(
  assumptions: Assumptions,
  prices: PriceTable = PRICES,
  messageBytes = 200,
): ChangeCostRow {
  const a = assumptions;
  const perMessage = messageCosts(a, prices, messageBytes);
  const itemBytes = a.messageItemOverheadBytes + messageBytes;
  const extraWrites = writeUnits(itemBytes + REPLY_REF_BYTES) - writeUnits(itemBytes);
  const extraReads = 2 * pageReadUnits(itemBytes, true);
  const extraUsd =
    extraWrites * usdPerUnit(prices, 'dynamoWriteRequestUnits') +
    extraReads * usdPerUnit(prices, 'dynamoReadRequestUnits');
  return {
    change: 'reply (quoting a message)',
    usdPerMillion: perMessage.map((m) => m.usd + extraUsd * 1e6),
    postsPerChange: perMessage.map((m) => m.posts),
  };
}

/** Other devices of the member a priced mention names (a phone, a second tab): each gets a `mention` frame. */
const MENTIONED_DEVICES = 2;

/**
 * A message that names one signed-in member, per million, in quiet rooms: a message's cost plus the room's members
 * read to resolve the name (one Query of the room index, up to 1,000 members, mentions.ts), the named connection's
 * item (its user), the user index Query for its devices, and a `mention` post to each of MENTIONED_DEVICES.
 */
export function mentionCosts(
  assumptions: Assumptions,
  prices: PriceTable = PRICES,
  messageBytes = 200,
): ChangeCostRow {
  const a = assumptions;
  const postUsd = prices.apigwWsMessages.tiers[0]?.usd ?? 0;
  const readUsd = usdPerUnit(prices, 'dynamoReadRequestUnits');
  const perMessage = messageCosts(a, prices, messageBytes);
  return {
    change: 'mention (one signed-in member)',
    usdPerMillion: perMessage.map((m, i) => {
      const members = Math.min(CHANGE_ROOM_SIZES[i] ?? 0, 1000);
      const reads =
        roomMemberReadUnits(members, a, CHANGE_ROOM_SIZES[i] ?? 0) +
        pageReadUnits(a.connectionItemBytes, false) +
        pageReadUnits(a.roomIndexItemBytes, true);
      return m.usd + (reads * readUsd + MENTIONED_DEVICES * postUsd) * 1e6;
    }),
    postsPerChange: perMessage.map((m) => m.posts + MENTIONED_DEVICES),
  };
}

/** Bytes a thread reply's item carries over a message's: `threadOf` and its author's user id (threads.ts). */
const THREAD_REF_BYTES = 50;
/** Bytes of a thread's root summary and followers on the root's item: count, last reply, names, member keys. */
const ROOT_THREAD_BYTES = 400;
/** Bytes of a reply's pointer item in its thread's partition (`<roomId>#t<root>`, seq, ttl). */
const POINTER_BYTES = 40;
/** Signed-in followers a priced reply tells besides the replier, each on one other device. */
const FOLLOWERS_TOLD = 2;

/**
 * A reply in a thread, per million, in quiet rooms: a message's cost (it takes the room's next seq and the same
 * fan-out) plus what a thread adds (functions/threads/threads.ts): the root read strongly consistent beside the send
 * token, the pointer put (1 WCU), the reply's `threadOf`, the root's UpdateItem (its summary and followers, charged by
 * the root item's size), and per follower told: its devices' user index Query, its notice turn (1 WCU on the Limits
 * table) and one `mention` post.
 */
export function threadReplyCosts(
  assumptions: Assumptions,
  prices: PriceTable = PRICES,
  messageBytes = 200,
): ChangeCostRow {
  const a = assumptions;
  const perMessage = messageCosts(a, prices, messageBytes);
  const itemBytes = a.messageItemOverheadBytes + messageBytes;
  const rootBytes = itemBytes + ROOT_THREAD_BYTES;
  const extraWrites =
    writeUnits(POINTER_BYTES) +
    writeUnits(itemBytes + THREAD_REF_BYTES) -
    writeUnits(itemBytes) +
    writeUnits(rootBytes) +
    FOLLOWERS_TOLD;
  const extraReads =
    pageReadUnits(rootBytes, false) + FOLLOWERS_TOLD * pageReadUnits(a.roomIndexItemBytes, true);
  const extraUsd =
    extraWrites * usdPerUnit(prices, 'dynamoWriteRequestUnits') +
    extraReads * usdPerUnit(prices, 'dynamoReadRequestUnits') +
    FOLLOWERS_TOLD * (prices.apigwWsMessages.tiers[0]?.usd ?? 0);
  return {
    change: `thread reply (${FOLLOWERS_TOLD} followers told)`,
    usdPerMillion: perMessage.map((m) => m.usd + extraUsd * 1e6),
    postsPerChange: perMessage.map((m) => m.posts + FOLLOWERS_TOLD),
  };
}

export function renderChangeCosts(rows: ChangeCostRow[]): string {
  const money = (n: number) => `$${n.toFixed(2)}`;
  const head = `  ${'change'.padEnd(32)}${CHANGE_ROOM_SIZES.map((n) => `room of ${n}`.padStart(16)).join('')}`;
  const lines = rows.map(
    (row) => `  ${row.change.padEnd(32)}${row.usdPerMillion.map((usd) => money(usd).padStart(16)).join('')}`,
  );
  const posts = rows[0]?.postsPerChange.map((p) => p.toFixed(0).padStart(16)).join('') ?? '';
  return [
    'message changes (edit, delete, reaction, pin), replies, mentions and thread replies: USD per million, quiet rooms (a busy room coalesces them)',
    head,
    ...lines,
    `  ${'posts per change'.padEnd(32)}${posts}`,
    '',
  ].join('\n');
}
