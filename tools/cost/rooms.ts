// A member in k rooms on one connection (docs/ARCHITECTURE.md, "Subscriptions"): what its connect, its disconnect and
// a message cost, at k = 1, 10, 50. Pure arithmetic over the model's metering.
//
// Per connect: `$connect` writes the connection item and the lobby's subscription (and its index entry); each room
// followed again is a subscription put and an `ADD subscriptionCount` on the connection item in one transaction (as
// a join writes them: a transactional write is billed twice), its RoomSubscribers index entry (a GSI write, not
// transactional), a `presence` join event to that room (ten to a PutEvents call) and one `history` Query for what the
// member missed. Per disconnect: one Query of the connection's subscriptions, each deleted with its index entry, a
// `presence` leave event per room. Per message in any of the k rooms: one post to the member, as in one room: a
// connection's rooms do not multiply what a message costs, they are more messages reaching it.

import { type Draft, pageReadUnits, priceItems, writeUnits } from './metering';
import type { PriceTable } from './prices';
import type { Assumptions } from './types';

export const ROOM_COUNTS = [1, 10, 50] as const;

/** A subscription item: connection, room, shard key, name, user id, times. */
const SUBSCRIPTION_ITEM_BYTES = 200;
/** PutEvents takes ten entries a call. */
const EVENTS_PER_CALL = 10;

export interface RoomsPerConnectionRow {
  rooms: number;
  connect: {
    subscriptionWrites: number;
    indexWrites: number;
    events: number;
    readUnits: number;
    usd: number;
  };
  disconnect: {
    subscriptionWrites: number;
    indexWrites: number;
    events: number;
    readUnits: number;
    usd: number;
  };
  /** Posts to this member per message of one of its rooms, and writes that message makes for it. */
  perMessage: { posts: number; writes: number };
}

const drafts = (
  writes: number,
  indexWrites: number,
  events: number,
  readUnits: number,
  calls: number,
): Draft[] => [
  {
    service: 'DynamoDB',
    component: 'subscription writes',
    priceId: 'dynamoWriteRequestUnits',
    quantity: writes,
  },
  {
    service: 'DynamoDB',
    component: 'index writes',
    priceId: 'dynamoWriteRequestUnits',
    quantity: indexWrites,
  },
  { service: 'DynamoDB', component: 'reads', priceId: 'dynamoReadRequestUnits', quantity: readUnits },
  {
    service: 'EventBridge',
    component: 'presence events',
    priceId: 'eventbridgeCustomEvents',
    quantity: events,
  },
  { service: 'Lambda', component: 'invocations', priceId: 'lambdaRequests', quantity: calls },
];

const usdOf = (d: Draft[], prices: PriceTable) => priceItems(d, prices).reduce((n, item) => n + item.usd, 0);

export function roomsPerConnection(a: Assumptions, prices: PriceTable): RoomsPerConnectionRow[] {
  const subscription = writeUnits(SUBSCRIPTION_ITEM_BYTES);
  const connection = writeUnits(a.connectionItemBytes);
  return ROOM_COUNTS.map((k) => {
    // $connect: the connection item and the lobby's subscription; then k rooms, each a transaction of two writes.
    const connectWrites = connection + subscription + k * 2 * (subscription + connection);
    const connectIndex = 1 + k;
    // history after the last seq, one Query per room (a few small events: one 4 KB page, eventually consistent).
    const connectReads = k * pageReadUnits(4096);
    // $connect, one subscribe frame, and the k history asks.
    const connectCalls = 2 + k;
    const disconnectWrites = (k + 1) * subscription + connection;
    const disconnectIndex = k + 1;
    const disconnectReads = pageReadUnits((k + 1) * SUBSCRIPTION_ITEM_BYTES);
    return {
      rooms: k,
      connect: {
        subscriptionWrites: connectWrites,
        indexWrites: connectIndex,
        events: k,
        readUnits: connectReads,
        usd: usdOf(drafts(connectWrites, connectIndex, k, connectReads, connectCalls), prices),
      },
      disconnect: {
        subscriptionWrites: disconnectWrites,
        indexWrites: disconnectIndex,
        events: k,
        readUnits: disconnectReads,
        usd: usdOf(drafts(disconnectWrites, disconnectIndex, k, disconnectReads, 1), prices),
      },
      perMessage: { posts: 1, writes: 0 },
    };
  });
}

/** PutEvents calls a disconnect of k rooms makes. */
export const presenceCalls = (k: number) => Math.ceil(k / EVENTS_PER_CALL);

export function renderRoomsPerConnection(rows: RoomsPerConnectionRow[]): string {
  const cell = (s: string | number, w = 12) => String(s).padStart(w);
  const micro = (usd: number) => `$${(usd * 1e6).toFixed(2)}/M`;
  return [
    '',
    'a member in k rooms on one connection: per connect (resubscribe all) and per disconnect, USD per million',
    `  ${'rooms'.padEnd(6)}${cell('WRU conn.')}${cell('index wr.')}${cell('events')}${cell('RRU')}${cell('connect', 14)}${cell('WRU disc.')}${cell('index wr.')}${cell('disconnect', 14)}`,
    ...rows.map(
      (r) =>
        `  ${String(r.rooms).padEnd(6)}${cell(r.connect.subscriptionWrites)}${cell(r.connect.indexWrites)}${cell(r.connect.events)}` +
        `${cell(r.connect.readUnits)}${cell(micro(r.connect.usd), 14)}${cell(r.disconnect.subscriptionWrites)}` +
        `${cell(r.disconnect.indexWrites)}${cell(micro(r.disconnect.usd), 14)}`,
    ),
    '  per message in any of the k rooms: 1 post to the member and no write for it, whatever k (unread counts live',
    "  in the client); each room's presence event is that room's fan-out (presence table above); DynamoDB and",
    '  EventBridge and invocations only (the frames themselves are API Gateway messages at $1/M).',
    '',
  ].join('\n');
}
