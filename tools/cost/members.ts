// Read positions, "my rooms" and direct messages (functions/rooms/memberships.ts): what each request costs, from
// the same prices and metering as the rest of the model. Each is one request and its reply (two API Gateway
// messages) and one Lambda invocation; only opendm posts to a room: its presence join rides the fan-out
// (tools/cost/presence.ts), and a first opendm posts dmopened to the other user's devices.

import { UNREAD_EVENTS_READ } from '#rooms/memberships';
import {
  type Draft,
  gbSeconds,
  pageReadUnits,
  priceItems,
  roomMemberReadUnits,
  writeUnits,
} from './metering';
import { DEFAULT_WORKLOAD } from './model';
import { fanoutDrafts } from './presence';
import type { PriceTable } from './prices';
import type { Assumptions } from './types';

export const MEMBER_ROOM_SIZES = [10, 100, 1000];

/** A membership item: member key, room, read position, invite key, time. */
const MEMBERSHIP_ITEM_BYTES = 150;
/** A member-route invocation on AWS at 256 MB: a few DynamoDB round trips. */
const MEMBER_ROUTE_MS = 30;
const MEMBER_ROUTE_MB = 256;
/** Rooms a `myrooms` answer lists in the table below. */
const LISTED_ROOMS = 20;
/** Devices of the other user connected when a direct message is first opened with them (each gets `dmopened`). */
const NOTIFIED_DEVICES = 2;
/** Connections in a DM room when its presence join is fanned out: the opener's and one of the other user's. */
const DM_ROOM_CONNECTIONS = 2;

/** One Lambda-backed WebSocket request: its message in, its reply out, the invocation, the guard's frame count. */
function request(a: Assumptions, ms = MEMBER_ROUTE_MS): Draft[] {
  return [
    { service: 'API Gateway', component: 'request and reply', priceId: 'apigwWsMessages', quantity: 2 },
    { service: 'Lambda', component: 'invocation', priceId: 'lambdaRequests', quantity: 1 },
    {
      service: 'Lambda',
      component: 'duration',
      priceId: 'lambdaArmGbSeconds',
      quantity: gbSeconds(ms, MEMBER_ROUTE_MB),
    },
    {
      service: 'DynamoDB',
      component: 'frame count on the connection',
      priceId: 'dynamoWriteRequestUnits',
      quantity: writeUnits(a.connectionItemBytes),
    },
  ];
}

const reads = (component: string, quantity: number): Draft => ({
  service: 'DynamoDB',
  component,
  priceId: 'dynamoReadRequestUnits',
  quantity,
});
const writes = (component: string, quantity: number): Draft => ({
  service: 'DynamoDB',
  component,
  priceId: 'dynamoWriteRequestUnits',
  quantity,
});

/** BatchGetItem of `items` small items: half a read unit each (eventually consistent, under 4 KB). */
const batchGetUnits = (items: number) => items / 2;

/** Of the rooms a `myrooms` answer lists, those with events after the member's read position (the others cost no read). */
const LISTED_ROOMS_BEHIND = LISTED_ROOMS / 2;
/** Events after the read position in such a room: a few messages, a reaction. */
const EVENTS_BEHIND = 5;

/**
 * Read units of counting one room's unread messages: one Query of the events after the read position, at most
 * UNREAD_EVENTS_READ of them, each an item of the default workload's message size. A Query is charged for every item it reads (its filter leaves out others' changes and
 * your own messages after the read), rounded up to 4 KB per Query, half of it eventually consistent.
 */
export const unreadQueryUnits = (a: Assumptions, events: number) =>
  events === 0
    ? 0
    : pageReadUnits(
        Math.min(events, UNREAD_EVENTS_READ) * (a.messageItemOverheadBytes + DEFAULT_WORKLOAD.messageBytes),
      );

/**
 * Read units of one `myrooms` of a member of `rooms` rooms (at most 100 listed), `behind` of them with `events`
 * events after the read position: the caller's connection, the memberships Query, the rooms' BatchGetItem, and one
 * unread Query per room behind.
 */
export function myroomsReadUnits(a: Assumptions, rooms: number, behind: number, events: number) {
  return {
    connection: 0.5,
    memberships: pageReadUnits(rooms * MEMBERSHIP_ITEM_BYTES),
    rooms: batchGetUnits(rooms),
    unread: Math.min(behind, rooms) * unreadQueryUnits(a, events),
  };
}

/** The drafts of one request of each kind; `roomSize` matters only to seenby. */
export function memberRequestDrafts(a: Assumptions, roomSize: number, seenByMaxMembers: number) {
  const indexPage = roomMemberReadUnits(roomSize, a, roomSize);
  const shown = roomSize <= seenByMaxMembers;
  return {
    markread: [
      ...request(a),
      reads("room's head (GetItem, strongly consistent)", pageReadUnits(a.roomItemBytes, false)),
      writes('read position (forward only)', writeUnits(MEMBERSHIP_ITEM_BYTES)),
    ],
    myrooms: ((u) => [
      ...request(a),
      reads('connection', u.connection),
      reads('memberships (one Query)', u.memberships),
      reads('rooms (BatchGetItem)', u.rooms),
      reads('unread messages (one Query per room behind)', u.unread),
    ])(myroomsReadUnits(a, LISTED_ROOMS, LISTED_ROOMS_BEHIND, EVENTS_BEHIND)),
    seenby: [
      ...request(a),
      reads('room index', indexPage),
      ...(shown
        ? [
            reads("members' connections (BatchGetItem)", batchGetUnits(roomSize)),
            reads('read positions (BatchGetItem)', batchGetUnits(roomSize)),
          ]
        : []),
    ],
    opendm: [
      ...request(a, 3 * MEMBER_ROUTE_MS),
      reads('room, connection, room index, history', 1 + 1 + 0.5 + 0.5),
      writes('room (first open), move into it (transaction)', writeUnits(a.roomItemBytes) + 2 * 2),
      writes('two memberships', 2 * writeUnits(MEMBERSHIP_ITEM_BYTES)),
      ...fanoutDrafts('join', DM_ROOM_CONNECTIONS, a),
    ] as Draft[],
    /** Added to an opendm whose room is new to the other's list (rooms/dmNotice.ts), not to every opendm. */
    dmNotice: [
      reads("the other's devices (user index Query, keys only)", 0.5),
      {
        service: 'API Gateway',
        component: 'dmopened post per device',
        priceId: 'apigwWsMessages',
        quantity: NOTIFIED_DEVICES,
      },
    ] as Draft[],
  };
}

/** USD per million of one kind of request. */
function perMillion(drafts: Draft[], prices: PriceTable): number {
  const scaled = drafts.map((d) => ({ ...d, quantity: d.quantity * 1e6 }));
  return priceItems(scaled, prices).reduce((sum, item) => sum + item.usd, 0);
}

export interface MemberCostRow {
  roomSize: number;
  /** Every member marks every message read (a quiet room, each reader at most once per read interval). */
  readsPerMessageUsdPerMillion: number;
  markreadUsdPerMillion: number;
  myroomsUsdPerMillion: number;
  seenbyUsdPerMillion: number;
  seenbyShown: boolean;
  opendmUsdPerMillion: number;
  /** An opendm that tells the other user's devices (the pair's first open, or after they left the room). */
  opendmFirstUsdPerMillion: number;
}

export function memberCosts(a: Assumptions, prices: PriceTable, seenByMaxMembers: number): MemberCostRow[] {
  return MEMBER_ROOM_SIZES.map((roomSize) => {
    const d = memberRequestDrafts(a, roomSize, seenByMaxMembers);
    const markread = perMillion(d.markread, prices);
    return {
      roomSize,
      readsPerMessageUsdPerMillion: markread * roomSize,
      markreadUsdPerMillion: markread,
      myroomsUsdPerMillion: perMillion(d.myrooms, prices),
      seenbyUsdPerMillion: perMillion(d.seenby, prices),
      seenbyShown: roomSize <= seenByMaxMembers,
      opendmUsdPerMillion: perMillion(d.opendm, prices),
      opendmFirstUsdPerMillion: perMillion([...d.opendm, ...d.dmNotice], prices),
    };
  });
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** Read units of `myrooms` for a member of 100 rooms: none behind, each a few events behind, each 100 or more. */
export function myroomsOf100(a: Assumptions) {
  const total = (u: ReturnType<typeof myroomsReadUnits>) => u.connection + u.memberships + u.rooms + u.unread;
  return {
    allRead: total(myroomsReadUnits(a, 100, 0, 0)),
    fewEach: total(myroomsReadUnits(a, 100, 100, EVENTS_BEHIND)),
    fullEach: total(myroomsReadUnits(a, 100, 100, UNREAD_EVENTS_READ)),
  };
}

export function renderMemberCosts(rows: MemberCostRow[], seenByMaxMembers: number, a?: Assumptions): string {
  const of100 = a && myroomsOf100(a);
  const head = [
    'members',
    'reads per message',
    'markread',
    'myrooms',
    `seenby (max ${seenByMaxMembers})`,
    'opendm',
    'opendm, first',
  ];
  const body = rows.map((r) => [
    String(r.roomSize),
    usd(r.readsPerMessageUsdPerMillion),
    usd(r.markreadUsdPerMillion),
    usd(r.myroomsUsdPerMillion),
    `${usd(r.seenbyUsdPerMillion)}${r.seenbyShown ? '' : ' (tooLarge)'}`,
    usd(r.opendmUsdPerMillion),
    usd(r.opendmFirstUsdPerMillion),
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => `  ${cells.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('  ')}`;
  return [
    '',
    "read positions and direct messages (USD per million; only opendm's presence join rides the fan-out)",
    line(head),
    ...body.map(line),
    `  reads per message: every member marks each message read (a quiet room; markRead sends at most one per 5 s,`,
    `  so a busy room costs less); myrooms lists ${LISTED_ROOMS} rooms, ${LISTED_ROOMS_BEHIND} of them ${EVENTS_BEHIND} events behind`,
    `  (one unread Query each); a join or create adds one membership write`,
    `  and a presence change (above); opendm includes its join's fan-out to ${DM_ROOM_CONNECTIONS} connections;`,
    `  opendm, first: the room is new to the other's list, whose ${NOTIFIED_DEVICES} connected devices get dmopened`,
    `  (per DM opened, never per message; each signed-in connection also writes the user index at connect and close).`,
    ...(of100
      ? [
          `  myrooms of a member of 100 rooms: ${of100.allRead} read units with every room read, ${of100.fewEach} with each`,
          `  ${EVENTS_BEHIND} events behind, ${of100.fullEach} with each ${UNREAD_EVENTS_READ} or more behind (the bound of its count).`,
        ]
      : []),
    '',
  ].join('\n');
}
