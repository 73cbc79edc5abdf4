// "Seen by" before and after it was pushed (docs/DECISIONS.md, "Service design"): what an active room's read positions
// cost per second, from the code's own behaviour and the model's metering. Pure arithmetic.
//
// Before: every page asked `seenby` after each event, at most once per 5 s (the old web/seenby.js, MIN_GAP_MS), so an
// active room of N members asked N / 5 times a second, each answer reading the room index and two BatchGetItems of
// N items (members' connections, their read positions: tools/cost/members.ts prices one).
// After: the page asks once when the room is shown; each markread that moves a position (the client sends at most one
// per 5 s per member: client/members.ts) reads the room's size (membersUpTo: at most SeenByMaxMembers + 1 index
// entries, every shard of a small room: one Query each) and publishes one `Seen` event, which rides the fan-out: the
// queue, the pipe, and a cycle that posts each member one `seen` frame for up to ten reads (coalesceRoomState).

import { memberRequestDrafts } from './members';
import { type Draft, priceItems, roomMemberReadUnits } from './metering';
import { fanoutDrafts } from './presence';
import type { PriceTable } from './prices';
import type { Assumptions } from './types';

/** The old page's ask interval in an active room, and the client's markread interval: one per member per 5 s. */
const PER_MEMBER_INTERVAL_S = 5;

export interface SeenByRate {
  /** Lambda invocations per second for read positions (asks, or markread's extra work is in its own invocation). */
  invocationsPerSecond: number;
  readUnitsPerSecond: number;
  writeUnitsPerSecond: number;
  postsPerSecond: number;
  usdPerRoomMinute: number;
}

export interface SeenByComparison {
  roomSize: number;
  seenByMaxMembers: number;
  asksOrReadsPerSecond: number;
  /** Events one fan-out cycle takes (the pipe's batch). */
  readsPerCycle: number;
  before: SeenByRate;
  after: SeenByRate;
  /** One markread's own added work after: the size read, the event, its share of a cycle's posts. */
  perMarkread: { membershipWrites: number; sizeReadUnits: number; events: number; posts: number };
}

const sum = (drafts: Draft[], priceId: string) =>
  drafts.filter((d) => d.priceId === priceId).reduce((n, d) => n + d.quantity, 0);

function rate(drafts: Draft[], prices: PriceTable, invocations: number): SeenByRate {
  const usdPerSecond = priceItems(drafts, prices).reduce((n, item) => n + item.usd, 0);
  return {
    invocationsPerSecond: invocations,
    readUnitsPerSecond: sum(drafts, 'dynamoReadRequestUnits'),
    writeUnitsPerSecond: sum(drafts, 'dynamoWriteRequestUnits'),
    postsPerSecond: drafts
      .filter((d) => d.priceId === 'apigwWsMessages' && d.component.includes('posts'))
      .reduce((n, d) => n + d.quantity, 0),
    usdPerRoomMinute: usdPerSecond * 60,
  };
}

const times = (drafts: Draft[], n: number): Draft[] =>
  drafts.map((d) => ({ ...d, quantity: d.quantity * n }));

/**
 * An active room of `roomSize` members (every member reading as messages come): read positions' cost per second
 * before (polled) and after (pushed). markread's own head read and membership write are the same both ways and left
 * out of both; `perMarkread` names them.
 */
export function seenByComparison(
  a: Assumptions,
  prices: PriceTable,
  roomSize: number,
  seenByMaxMembers: number,
): SeenByComparison {
  const perSecond = roomSize / PER_MEMBER_INTERVAL_S;
  const seenby = memberRequestDrafts(a, roomSize, seenByMaxMembers).seenby;
  const before = rate(times(seenby, perSecond), prices, perSecond);

  const shown = roomSize <= seenByMaxMembers;
  // markread's added work: its size read (up to SeenByMaxMembers + 1 entries over the keys of the room's level, which
  // the head's read gives) and, in a room shown, the event on the bus, the queue and the pipe.
  const sizeRead = roomMemberReadUnits(Math.min(roomSize, seenByMaxMembers + 1), a, roomSize, false);
  const perRead: Draft[] = [
    {
      service: 'DynamoDB',
      component: 'room size read',
      priceId: 'dynamoReadRequestUnits',
      quantity: sizeRead,
    },
    ...(shown
      ? ([
          {
            service: 'EventBridge',
            component: 'Seen event',
            priceId: 'eventbridgeCustomEvents',
            quantity: 1,
          },
          { service: 'SQS', component: 'FIFO SendMessage', priceId: 'sqsFifoRequests', quantity: 1 },
          {
            service: 'EventBridge',
            component: 'Pipes request',
            priceId: 'eventbridgePipesRequests',
            quantity: 1,
          },
        ] as Draft[])
      : []),
  ];
  // Cycles: the pipe takes up to ten of the room's events at once, so the reads of a second share
  // ceil(reads / 10) cycles, each posting every member one `seen` frame (as a presence change's fan-out does, its
  // bus event already counted above).
  const cycles = shown ? Math.ceil(perSecond / a.pipeBatchSize) : 0;
  const receive: Draft = {
    service: 'SQS',
    component: 'FIFO ReceiveMessage + DeleteMessageBatch',
    priceId: 'sqsFifoRequests',
    quantity: 2,
  };
  const cycle: Draft[] = [
    ...fanoutDrafts('join', roomSize, a).filter((d) => d.priceId !== 'eventbridgeCustomEvents'),
    receive,
  ].map((d) => (d.component === 'presence posts' ? { ...d, component: 'seen posts' } : d));
  const after = rate(
    [...times(perRead, perSecond), ...times(cycle, cycles)],
    prices,
    // markread is invoked before and after alike; only the fan-out's Deliver invocations are new.
    cycles * sum(cycle, 'lambdaRequests'),
  );
  return {
    roomSize,
    seenByMaxMembers,
    asksOrReadsPerSecond: perSecond,
    readsPerCycle: a.pipeBatchSize,
    before,
    after,
    perMarkread: {
      membershipWrites: 1,
      sizeReadUnits: sizeRead,
      events: shown ? 1 : 0,
      posts: shown ? (roomSize * cycles) / perSecond : 0,
    },
  };
}

const fixed = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The rows `npm run cost` prints. */
export function renderSeenBy(c: SeenByComparison): string {
  const row = (label: string, r: SeenByRate) =>
    `  ${label.padEnd(26)}${fixed(r.invocationsPerSecond).padStart(10)}${fixed(r.readUnitsPerSecond).padStart(10)}` +
    `${fixed(r.readUnitsPerSecond * 60, 0).padStart(14)}${fixed(r.writeUnitsPerSecond).padStart(8)}` +
    `${fixed(r.postsPerSecond).padStart(9)}${`$${fixed(r.usdPerRoomMinute, 4)}`.padStart(13)}`;
  return [
    '',
    `"seen by" in an active room of ${c.roomSize} (SeenByMaxMembers ${c.seenByMaxMembers}): ${fixed(c.asksOrReadsPerSecond)} asks or reads/s (one per member per 5 s)`,
    `  ${''.padEnd(26)}${'Lambda/s'.padStart(10)}${'RRU/s'.padStart(10)}${'RRU/room-min'.padStart(14)}${'WRU/s'.padStart(8)}${'posts/s'.padStart(9)}${'USD/room-min'.padStart(13)}`,
    row('polled (seenby per ask)', c.before),
    row('pushed (Seen events)', c.after),
    `  per markread after: ${c.perMarkread.membershipWrites} membership write (as before), ${fixed(c.perMarkread.sizeReadUnits)} RRU size read, ` +
      `${c.perMarkread.events} event, ${fixed(c.perMarkread.posts)} posts (a cycle's ${c.roomSize} posts carry up to ${c.readsPerCycle} reads);`,
    '  pushed adds one seenby per room shown (not per event); markread invocations are the same both ways.',
    '',
  ].join('\n');
}
