// Named rooms, the directory and profiles (functions/directory/, functions/profiles/): what each request costs, from the same
// prices and metering as the rest of the model. listrooms reads one page of the directory's partition (a Query of at
// most 20 small items: one 4 KB unit, eventually consistent) and the page's rooms (BatchGetItem, half a unit each); a
// public createroom writes the room and its name's entry in one transaction (billed twice); setroom reads the room,
// writes it and moves its entry in one transaction (at most three items) and posts `roomchanged` to the room as a
// room broadcast rides the fan-out; setprofile reads and writes the profile, Queries the user's memberships (at most
// 100) and posts `profile` to each of those rooms, ten events to a PutEvents.

import { DIRECTORY_LIMITS } from '#protocol';
import { type Draft, gbSeconds, pageReadUnits, priceItems, writeUnits } from './metering';
import { fanoutDrafts } from './presence';
import type { PriceTable } from './prices';
import type { Assumptions } from './types';

/** A directory entry: list key, folded name, room code, name, topic. */
const ENTRY_BYTES = 300;
/** A profile item: user id, display name, status, avatar reference. */
const PROFILE_ITEM_BYTES = 300;
/** A membership item, as tools/cost/members.ts counts it. */
const MEMBERSHIP_ITEM_BYTES = 150;
const ROUTE_MS = 30;
const ROUTE_MB = 256;
/** Members of each room a room or profile change is told to, in the table below. */
export const DIRECTORY_ROOM_SIZE = 50;
/** Rooms a profile change is told to: the most it reaches (DIRECTORY_LIMITS.profileRooms) and a typical 10. */
const PROFILE_ROOMS = [10, DIRECTORY_LIMITS.profileRooms];

function request(a: Assumptions): Draft[] {
  return [
    { service: 'API Gateway', component: 'request and reply', priceId: 'apigwWsMessages', quantity: 2 },
    { service: 'Lambda', component: 'invocation', priceId: 'lambdaRequests', quantity: 1 },
    {
      service: 'Lambda',
      component: 'duration',
      priceId: 'lambdaArmGbSeconds',
      quantity: gbSeconds(ROUTE_MS, ROUTE_MB),
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

export function directoryDrafts(a: Assumptions) {
  const listed = DIRECTORY_LIMITS.listMax;
  const profile = (rooms: number): Draft[] => [
    ...request(a),
    reads('profile (GetItem, strongly consistent)', pageReadUnits(PROFILE_ITEM_BYTES, false)),
    writes('profile (PutItem)', writeUnits(PROFILE_ITEM_BYTES)),
    reads('memberships (one Query)', pageReadUnits(rooms * MEMBERSHIP_ITEM_BYTES)),
    ...Array.from({ length: rooms }, () => fanoutDrafts('broadcast', DIRECTORY_ROOM_SIZE, a)).flat(),
  ];
  return {
    listrooms: [
      ...request(a),
      reads(`directory page (Query of ${listed} entries)`, pageReadUnits(listed * ENTRY_BYTES)),
      reads(`the page's rooms (BatchGetItem of ${listed})`, listed / 2),
    ],
    createPublic: [
      writes(
        'room and name entry (a transaction: twice)',
        2 * (writeUnits(a.roomItemBytes) + writeUnits(ENTRY_BYTES)),
      ),
    ],
    setroom: [
      ...request(a),
      reads('room (GetItem, strongly consistent)', pageReadUnits(a.roomItemBytes, false)),
      writes(
        'room, old and new entry (a transaction: twice)',
        2 * (writeUnits(a.roomItemBytes) + 2 * writeUnits(ENTRY_BYTES)),
      ),
      ...fanoutDrafts('broadcast', DIRECTORY_ROOM_SIZE, a),
    ] as Draft[],
    profiles: PROFILE_ROOMS.map((rooms) => ({ rooms, drafts: profile(rooms) })),
  };
}

const perMillion = (drafts: Draft[], prices: PriceTable) =>
  priceItems(
    drafts.map((d) => ({ ...d, quantity: d.quantity * 1e6 })),
    prices,
  ).reduce((sum, item) => sum + item.usd, 0);

export function renderDirectoryCosts(a: Assumptions, prices: PriceTable): string {
  const d = directoryDrafts(a);
  const usd = (n: number) => `$${n.toFixed(2)}`;
  return [
    '',
    `named rooms, the directory and profiles (USD per million; changes told to rooms of ${DIRECTORY_ROOM_SIZE} members)`,
    `  listrooms, a page of ${DIRECTORY_LIMITS.listMax}: ${usd(perMillion(d.listrooms, prices))}`,
    `  createroom, public (added to a private one's cost: the name entry in the room's transaction): ${usd(perMillion(d.createPublic, prices))}`,
    `  setroom (rename, topic, visibility; roomchanged to every member): ${usd(perMillion(d.setroom, prices))}`,
    ...d.profiles.map(
      (p) =>
        `  setprofile of a member of ${p.rooms} rooms (profile to each): ${usd(perMillion(p.drafts, prices))}`,
    ),
    '',
  ].join('\n');
}
