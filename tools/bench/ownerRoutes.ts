/**
 * The calls of an owner's or a moderator's route, in order, as its code makes them (functions/moderation/owners.ts,
 * moderation.ts and their ports), for the owners model (ownerActions.ts). Each route starts with the caller's frame
 * counted (core/websocket.ts; the caller's connection then served from that count, guard.ts servedFrom).
 *
 * The room is the same in every row: moderated (a removal, a ban or a mute has marked it), so reading it is the
 * room's item and then its moderation item (core/aws/rooms.ts get). The person acted on is signed in and follows the
 * room on as many connections as one person may hold at the default (ConnectionsPerSource; the route reads them all,
 * owners.ts personConnectionsMax), all showing the one name (no second rotation for other names).
 */

import { keyLevelFor } from '#core/aws/roomMembers';
import { SETTINGS } from '#platform/settingsSchema';
import type { LatencyName } from '../local/awsProfile';

export type OwnerAction = 'removemember' | 'ban' | 'mute' | 'rotatekey' | 'slowmode' | 'closeroom';
export const OWNER_ACTIONS: OwnerAction[] = [
  'removemember',
  'ban',
  'mute',
  'rotatekey',
  'slowmode',
  'closeroom',
];

/** The connections of the person acted on (removemember, ban, mute): the most one person may hold, all read. */
const PERSON_DEVICES = SETTINGS.ConnectionsPerSource.default;
/** Calls at once on the person acted on (owners.ts POSTS_AT_ONCE, eachAtMost). */
const PERSON_AT_ONCE = 16;

/** A room index entry as a Query reads it (keys and `username`, with DynamoDB's per-item overhead): an estimate. */
const ENTRY_BYTES = 200;
/** Entries one Query page holds: DynamoDB stops a page at 1 MB read. */
const PAGE_ENTRIES = Math.floor((1024 * 1024) / ENTRY_BYTES);
/** DynamoDB's read unit: 4 KB, a strongly consistent read of it 1 RRU and an eventually consistent one (a GSI's) ½. */
const READ_UNIT_BYTES = 4096;

/** One step of a route: calls side by side, each a chain of calls one after another; the slowest chain ends it. */
export interface Step {
  what: string;
  chains: LatencyName[][];
}
const one = (what: string, ...calls: LatencyName[]): Step => ({ what, chains: [calls] });

/** `count` items, each a chain of `calls`, PERSON_AT_ONCE at once as eachAtMost runs them: one chain per worker. */
function atMost(what: string, count: number, calls: LatencyName[]): Step {
  const workers = Math.min(PERSON_AT_ONCE, count);
  const chains = Array.from({ length: workers }, (_, w) =>
    Array.from({ length: Math.ceil((count - w) / PERSON_AT_ONCE) }, () => calls).flat(),
  );
  return { what, chains };
}

/** A route's calls, what it reads of the room index, and what it tells. */
export interface Route {
  steps: Step[];
  /** The step whose end is the room event's PutEvents accepted; absent: no room event (mute tells the person only). */
  publish?: number;
  /** The step whose end is the person acted on told on its every connection; absent: no person acted on. */
  personTold?: number;
  /** Posts the route makes itself (to the person acted on). */
  personPosts: number;
  /** Frames the room's fan-out posts each member it tells, and how many members it tells. */
  frames: number;
  told: number;
  /** Reads of every key of the room index the route makes (membersNamed: every page read, the name's entries returned). */
  indexReads: number;
}

/** The room index's read units of one read of every key of a room of `members` (a filter reads, and is charged for, every entry): a key's and the total. */
export function indexReadUnits(members: number): { perKey: number; total: number; pagesPerKey: number } {
  const level = keyLevelFor(members);
  const perKeyEntries = Math.ceil(members / level);
  // A Query is charged for every item it reads, rounded up to 4 KB per page, at ½ unit (eventually consistent).
  const perKey = Math.ceil((perKeyEntries * ENTRY_BYTES) / READ_UNIT_BYTES) / 2;
  return { perKey, total: perKey * level, pagesPerKey: Math.ceil(perKeyEntries / PAGE_ENTRIES) };
}

/** The first step of a read of the room index, by which a route's reads are counted. */
const INDEX_KEY_0 = "the room index's key 0, beside the room's key level";

/**
 * membersNamed (core/aws/connections.ts): key 0's pages beside the room's key level, then its other keys side by side,
 * each filtered to the name. A page costs one draw whatever it returns: the filter spares the function parsing the
 * room's entries, which the model does not draw (docs/DECISIONS.md, "A moderation target read by its name").
 */
function indexRead(members: number, why: string): Step[] {
  const level = keyLevelFor(members);
  const pages = Array(indexReadUnits(members).pagesPerKey).fill('dynamodbQuery') as LatencyName[];
  return [
    {
      what: `${why}: ${INDEX_KEY_0}`,
      chains: [pages, ['dynamodbItem']],
    },
    ...(level > 1
      ? [{ what: `its other ${level - 1} keys side by side`, chains: Array(level - 1).fill(pages) }]
      : []),
  ];
}

const invoke = one('API Gateway to the route function (warm)', 'lambdaInvoke');
const admit = one("the frame counted on the caller's connection (admitFrame)", 'dynamodbItem');
const roomRead = (why: string) =>
  one(`${why}: the room's item, then its moderation item`, 'dynamodbItem', 'dynamodbItem');
const audit = one("the action's audit row (auditModeration)", 'dynamodbItem');
const put = (what: string) => one(what, 'eventBridgePutEvents');
/** changeAsOwner (core/aws/rooms.ts): the room's keys read strongly, the transaction, the room as it left it. */
const asOwner = (what: string) => [
  one("the room's keys read strongly (beforeRotation)", 'dynamodbItem'),
  one(what, 'dynamodbTransaction'),
  roomRead('the room as the write left it'),
];
/** moveOutOf's four writes: the connection's move, the lobby's subscription, the room's deleted, the count off. */
const MOVE: LatencyName[] = Array(4).fill('dynamodbItem');

/** removeMember (owners.ts) from its owner's write on; `userId` known (a ban's) spares the named connection's read. */
function removal(members: number, ban: boolean): Step[] {
  return [
    ...asOwner(
      ban
        ? "the ban's write: the room, its moderation item, the ban's item and roster, its gates (TransactWriteItems)"
        : "the owner's write: the room, its moderation item, its gates (TransactWriteItems)",
    ),
    ...indexRead(members, 'personIn'),
    ...(ban ? [] : [one("the named member's connection (its userId)", 'dynamodbItem')]),
    one("the person's devices (the user index)", 'dynamodbQuery'),
    atMost(
      `each device's subscription of the room (${PERSON_DEVICES}, ${PERSON_AT_ONCE} at once)`,
      PERSON_DEVICES,
      ['dynamodbItem'],
    ),
    one("the owner's membership rekeyed (keepOwnersKey)", 'dynamodbItem'),
    atMost(
      `each device moved to the lobby (moveOutOf's four writes, ${PERSON_AT_ONCE} at once)`,
      PERSON_DEVICES,
      MOVE,
    ),
    one("the person's membership deleted (forgetPerson)", 'dynamodbItem'),
    atMost(`each device told \`removed\` (a post, ${PERSON_AT_ONCE} at once)`, PERSON_DEVICES, [
      'managementPost',
    ]),
    one("the leave on the room's presence board", 'dynamodbItem'),
    put('the leave and the new key (one PutEvents)'),
  ];
}

/**
 * A route from its steps: its room event is its PutEvents step's end, the person acted on told at its posts' step;
 * the fan-out tells `told` members `frames` frames each.
 */
function route(steps: Step[], frames: number, told: number): Route {
  const publish = steps.findIndex((s) => s.chains.some((c) => c.includes('eventBridgePutEvents')));
  const personTold = steps.findIndex((s) => s.chains.some((c) => c.includes('managementPost')));
  return {
    steps,
    ...(publish >= 0 && { publish }),
    ...(personTold >= 0 && { personTold }),
    personPosts: personTold >= 0 ? PERSON_DEVICES : 0,
    frames,
    told,
    indexReads: steps.filter((s) => s.what.includes(INDEX_KEY_0)).length,
  };
}

/** callerIn and listedTarget (moderation.ts): the caller's role, the named member's connections and its identity. */
const target = (members: number): Step[] => [
  roomRead("the caller's role (callerIn)"),
  ...indexRead(members, 'listedTarget'),
  one("the named member's connection (its key and userId)", 'dynamodbItem'),
];

/** The route of `action` in a room of `members`. */
export function routeOf(action: OwnerAction, members: number): Route {
  switch (action) {
    case 'removemember':
      return route([invoke, admit, ...removal(members, false), audit], 2, members - 1);
    case 'ban':
      // removeMember with the target's user id, and ban's own audit row (removeMember writes none for a ban).
      return route([invoke, admit, ...target(members), ...removal(members, true), audit], 2, members - 1);
    case 'mute': {
      const told = `each listed connection told \`muted\` (a post, ${PERSON_AT_ONCE} at once)`;
      const write = "the mute's write: the room, its moderation item (TransactWriteItems)";
      const steps = [invoke, admit, ...target(members), one(write, 'dynamodbTransaction')];
      steps.push(
        roomRead('the room as the write left it'),
        atMost(told, PERSON_DEVICES, ['managementPost']),
        audit,
      );
      return route(steps, 0, 0);
    }
    case 'rotatekey': {
      const steps = [
        invoke,
        admit,
        ...asOwner("the owner's write: the room, its gates (TransactWriteItems)"),
      ];
      steps.push(one("the owner's membership rekeyed (keepOwnersKey)", 'dynamodbItem'));
      return route([...steps, put('the new key (PutEvents)'), audit], 1, members);
    }
    case 'slowmode': {
      const update = "the room's slowModeSeconds (UpdateItem), then its moderation item";
      const steps = [invoke, admit, roomRead("the caller's role (callerIn)")];
      steps.push(one(update, 'dynamodbItem', 'dynamodbItem'), put('the slow mode (PutEvents)'), audit);
      return route(steps, 1, members);
    }
    case 'closeroom': {
      const write = "the owner's write: the room, its moderation item, its gates (TransactWriteItems)";
      const steps = [invoke, admit, ...asOwner(write)];
      steps.push(one("the owner's connection moved to the lobby (moveOutOf's four writes)", ...MOVE));
      // Every member but the owner, moved by the route (the index may still list it: one post more).
      return route([...steps, put("the room's roomclosed event (PutEvents)"), audit], 1, members - 1);
    }
  }
}

/** The route's calls by kind (each call of each chain), for the row's calls column. */
export function callsOf(route: Route): Partial<Record<LatencyName, number>> {
  const counts: Partial<Record<LatencyName, number>> = {};
  for (const step of route.steps)
    for (const chain of step.chains) for (const call of chain) counts[call] = (counts[call] ?? 0) + 1;
  return counts;
}
