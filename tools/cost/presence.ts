// What a presence change (join, leave, disconnect) and a room broadcast cost per million, at rooms of 10, 100 and
// 1,000. Each is one event on the chat bus that the fan-out posts as is (statemachines/fanout.asl.json: AsRoomEvent,
// then QueryMembersFirstPage and the PostChunks Map; functions/deliver/postAsIs.ts): no seq, no lease, no claim or
// release, but the room index pages, one Deliver per chunk that reserves its posts in the posting budget and posts
// the event's frame once to each member. Pure arithmetic, priced with the model's own metering
// (tools/cost/metering.ts).
//
// A presence change is priced from its event on: the request that causes it (joinroom, leaveroom, $disconnect,
// opendm, removemember) is that route's cost. A broadcast is priced whole: the REST call (BroadcastApi), the
// BroadcastFunction that checks the room, marks the send and publishes, then the fan-out.

import { keyLevelFor } from '#core/aws/roomMembers';
import { reservationWrites } from '#deliver/postBudget';
import {
  type Draft,
  expressGbSeconds,
  gbSeconds,
  increments,
  pageReadUnits,
  priceItems,
  shardedReadUnits,
} from './metering';
import { deliverDuration } from './model';
import { METERING, type PriceTable } from './prices';
import type { Assumptions, LineItem } from './types';

export const PRESENCE_ROOM_SIZES = [10, 100, 1000] as const;

export type AsIsEvent = 'join' | 'leave' | 'broadcast';

/** The broadcast route's own settings: BroadcastFunction's memory from the template. */
export interface BroadcastSettings {
  memoryMb: number;
}

const SAMPLE_ROOM = 'K7M2QD';
const SAMPLE_ID = '00000000-0000-4000-8000-000000000000';
const SAMPLE_USER = 'user-1234567';
const SAMPLE_TIME = '2025-01-01T12:00:00.000Z';

/**
 * Who is posted, in a room of `roomSize` members when the fan-out reads its index: a join goes to every member, the
 * joiner too (its connection is moved into the room before the event is published and nothing skips it; the web
 * client drops its own), a leave to the members left (the leaver's connection has already moved out or gone), a
 * broadcast to every member.
 */
export function recipients(event: AsIsEvent, roomSize: number): number {
  return event === 'leave' ? Math.max(0, roomSize - 1) : roomSize;
}

/** The frame each member gets and the bus entry, as functions/core/identity/presence.ts and functions/broadcast/announcing.ts build them. */
function eventBytes(event: AsIsEvent, textBytes: number) {
  const payload =
    event === 'broadcast'
      ? JSON.stringify({
          type: 'broadcast',
          messageId: SAMPLE_ID,
          text: 'x'.repeat(textBytes),
          sentAt: SAMPLE_TIME,
          roomId: SAMPLE_ROOM,
        })
      : JSON.stringify({ type: 'presence', roomId: SAMPLE_ROOM, event, username: SAMPLE_USER });
  const detail = JSON.stringify({ messageId: SAMPLE_ID, roomId: SAMPLE_ROOM, payload });
  const detailType = event === 'broadcast' ? 'Broadcast' : 'Presence';
  return {
    frame: Buffer.byteLength(payload),
    // PutEvents entry size: Time (14 bytes when set), Source, DetailType, Detail.
    entry: 14 + Buffer.byteLength('roomcast.chat') + detailType.length + Buffer.byteLength(detail),
  };
}

/** The pages, chunks and timings of one event posted as is to `posted` members of a room. */
export interface AsIsShape {
  /** Items on each Query of the room index, in order (a last empty one after a full page). */
  pageItems: number[];
  /** Members of each chunk, in order: one Deliver invocation each. */
  chunks: number[];
  /** NextPageOrHandOver steps: one Deliver invocation after each page that came back with a LastEvaluatedKey. */
  pageSteps: number;
  /** Billed ms of each chunk's Deliver. */
  deliverMs: number[];
  /** The Express execution, ms, before rounding. */
  stateMachineMs: number;
}

/**
 * As the state machine runs it: Query pages of `pageSize` (the Limit). DynamoDB returns a LastEvaluatedKey whenever
 * it stops at the Limit, so a full page is followed by NextPageOrHandOver (a Deliver invocation that, with no lease
 * to hand over, just goes on) and one more Query, which reads nothing when the members fill whole pages. Each page's ids
 * are split into chunks of `chunkSize` and posted at most `maxConcurrency` at once; a chunk's Deliver reserves its
 * posts (one DynamoDB round trip, `queryMs`) before it posts them.
 */
export function asIsShape(posted: number, a: Assumptions): AsIsShape {
  const fullPages = Math.floor(posted / a.pageSize);
  const pageItems = [...Array.from({ length: fullPages }, () => a.pageSize), posted % a.pageSize];
  const chunks: number[] = [];
  const deliverMs: number[] = [];
  let stateMachineMs = 0;
  for (const items of pageItems) {
    stateMachineMs += a.queryMs;
    const pageChunks: number[] = [];
    for (let rest = items; rest > 0; rest -= a.chunkSize) pageChunks.push(Math.min(rest, a.chunkSize));
    const pageMs = pageChunks.map((n) => deliverDuration(n, a) + a.queryMs);
    for (let i = 0; i < pageMs.length; i += a.maxConcurrency) {
      stateMachineMs += a.lambdaTaskOverheadMs + Math.max(...pageMs.slice(i, i + a.maxConcurrency));
    }
    chunks.push(...pageChunks);
    deliverMs.push(...pageMs);
  }
  stateMachineMs += fullPages * (a.lambdaTaskOverheadMs + a.deliverOverheadMs);
  return { pageItems, chunks, pageSteps: fullPages, deliverMs, stateMachineMs };
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/**
 * The line items of one event posted as is: its bus event, the Express execution, the Deliver invocations, the
 * room index Queries, the posting budget's writes (reservationWrites: the fewest a chunk's granted reservation takes;
 * a full second's refusals and retries add more), the posts, their logs and the execution's trace. Not here: pruning a stale member (once per stale session, whichever fan-out
 * meets it first: counted in the message model) and a rerun of the execution (EventBridge starts it at least once).
 */
export function fanoutDrafts(event: AsIsEvent, roomSize: number, a: Assumptions, textBytes = 200): Draft[] {
  const posts = recipients(event, roomSize);
  const shape = asIsShape(posts, a);
  const bytes = eventBytes(event, textBytes);
  const invocations = shape.chunks.length + shape.pageSteps;
  const budgetWrites = sum(shape.chunks.map((n) => reservationWrites(n, a.postingBudgetPerSecond)));
  return [
    {
      service: 'EventBridge',
      component: `${event === 'broadcast' ? 'Broadcast' : 'Presence'} event`,
      quantity: increments(bytes.entry, METERING.eventbridgeEventBytes),
      priceId: 'eventbridgeCustomEvents',
    },
    { service: 'Step Functions', component: 'Express request', quantity: 1, priceId: 'sfnExpressRequests' },
    {
      service: 'Step Functions',
      component: 'Express duration',
      quantity: expressGbSeconds(shape.stateMachineMs, a.stateMachineMemoryMb),
      priceId: 'sfnExpressGbSeconds',
    },
    {
      service: 'Lambda',
      component: 'Deliver requests (one per chunk and per full page)',
      quantity: invocations,
      priceId: 'lambdaRequests',
    },
    {
      service: 'Lambda',
      component: 'Deliver duration',
      quantity:
        gbSeconds(sum(shape.deliverMs), a.deliverMemoryMb) +
        shape.pageSteps * gbSeconds(a.deliverOverheadMs, a.deliverMemoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: 'RoomSubscribers Query pages',
      quantity: sum(
        shape.pageItems.map((items) => shardedReadUnits(items, a.roomIndexItemBytes, keyLevelFor(roomSize))),
      ),
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: 'posting budget reservations',
      quantity: budgetWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'API Gateway',
      component: `${event === 'broadcast' ? 'broadcast' : 'presence'} posts`,
      quantity: posts * increments(bytes.frame, METERING.apigwMessageBytes),
      priceId: 'apigwWsMessages',
    },
    {
      service: 'CloudWatch Logs',
      component: 'Deliver log ingestion',
      quantity: (invocations * a.logBytesPerInvocation) / 1024 ** 3,
      priceId: 'cloudwatchLogsIngestedGb',
    },
    {
      service: 'X-Ray',
      component: "the execution's trace (sampled)",
      quantity: a.xraySampleShare,
      priceId: 'xrayTracesRecorded',
    },
  ];
}

/**
 * A room broadcast's own request before its fan-out: the REST call (POST /broadcast, SigV4; the web page's
 * /admin/broadcast adds an authorizer invocation, not counted), BroadcastFunction (priced at SendMessage's billed
 * time: a few DynamoDB round trips and a PutEvents), its strongly consistent read of the room, its PutItem of the
 * broadcast's time in the sessions table, its log and trace.
 */
function broadcastRequestDrafts(a: Assumptions, settings: BroadcastSettings): Draft[] {
  return [
    { service: 'API Gateway', component: 'REST call', quantity: 1, priceId: 'apigwRestRequests' },
    { service: 'Lambda', component: 'Broadcast request', quantity: 1, priceId: 'lambdaRequests' },
    {
      service: 'Lambda',
      component: 'Broadcast duration',
      quantity: gbSeconds(a.sendMessageMs, settings.memoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: 'room read (strong)',
      quantity: pageReadUnits(a.roomItemBytes, false),
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: 'broadcast time mark',
      quantity: 1,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'CloudWatch Logs',
      component: 'Broadcast log ingestion',
      quantity: a.logBytesPerInvocation / 1024 ** 3,
      priceId: 'cloudwatchLogsIngestedGb',
    },
    {
      service: 'X-Ray',
      component: "the request's trace (sampled)",
      quantity: a.xraySampleShare,
      priceId: 'xrayTracesRecorded',
    },
  ];
}

/** The drafts of one event of `event`'s kind in a room of `roomSize`: a broadcast with its request. */
export function asIsDrafts(
  event: AsIsEvent,
  roomSize: number,
  a: Assumptions,
  settings: BroadcastSettings,
  textBytes = 200,
): Draft[] {
  const fanout = fanoutDrafts(event, roomSize, a, textBytes);
  return event === 'broadcast' ? [...broadcastRequestDrafts(a, settings), ...fanout] : fanout;
}

export interface AsIsCost {
  event: AsIsEvent;
  roomSize: number;
  posts: number;
  /** Line items of one million such events. */
  items: LineItem[];
  usdPerMillion: number;
}

/** One million events of `event`'s kind in rooms of `roomSize`, each fanned out on its own. */
export function asIsCost(
  event: AsIsEvent,
  roomSize: number,
  a: Assumptions,
  prices: PriceTable,
  settings: BroadcastSettings,
  textBytes = 200,
): AsIsCost {
  const drafts = asIsDrafts(event, roomSize, a, settings, textBytes).map((d) => ({
    ...d,
    quantity: d.quantity * 1e6,
  }));
  const items = priceItems(drafts, prices);
  return {
    event,
    roomSize,
    posts: recipients(event, roomSize),
    items,
    usdPerMillion: items.reduce((total, i) => total + i.usd, 0),
  };
}

const LABELS: Record<AsIsEvent, string> = {
  join: 'join (to all, the joiner too)',
  leave: 'leave or disconnect',
  broadcast: 'room broadcast (REST call)',
};

const EVENTS: AsIsEvent[] = ['join', 'leave', 'broadcast'];

/** Each kind of event at each of PRESENCE_ROOM_SIZES, kind by kind (what `npm run cost -- --json` adds). */
export function presenceCosts(
  a: Assumptions,
  prices: PriceTable,
  settings: BroadcastSettings,
  textBytes = 200,
): AsIsCost[][] {
  return EVENTS.map((event) =>
    PRESENCE_ROOM_SIZES.map((size) => asIsCost(event, size, a, prices, settings, textBytes)),
  );
}

/** The table `npm run cost` prints after the typing rows: USD per million and posts per event. */
export function presenceTable(rows: AsIsCost[][]): string {
  const money = (n: number) =>
    `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const cell = (c: AsIsCost) => `${money(c.usdPerMillion)} (${c.posts})`.padStart(20);
  const label = (row: AsIsCost[]) => LABELS[row[0]?.event ?? 'join'].padEnd(30);
  return [
    'presence changes and room broadcasts: USD per million (posts each), every one its own fan-out',
    `  ${'event'.padEnd(30)}${PRESENCE_ROOM_SIZES.map((n) => `room of ${n}`.padStart(20)).join('')}`,
    ...rows.map((row) => `  ${label(row)}${row.map(cell).join('')}`),
    '  (a bus event, an Express run, index pages, per chunk a Deliver and a budget write; not the route causing a presence change)',
    '',
  ].join('\n');
}
