// The three designs' line items for one workload: roomcast (send path, fan-out, observability), the AWS tutorials'
// design and AppSync Events. Pure arithmetic over the basis estimate() computes (cost/model.ts).

import { reservationWrites } from '../functions/domain/fanout/postBudget';
import {
  type Draft,
  design,
  expressGbSeconds,
  gbSeconds,
  increments,
  pagedReadUnits,
  pageReadUnits,
  writeUnits,
} from './metering';
import { METERING, type PriceTable } from './prices';
import type { Assumptions, Delivery, DesignCost, FanoutShape, FrameSizes, Workload } from './types';

/** What every design's lines are computed from. */
export interface Basis {
  w: Workload;
  a: Assumptions;
  prices: PriceTable;
  /** Messages per month. */
  M: number;
  f: FrameSizes;
  fan: FanoutShape;
  d: Delivery;
  /** Fan-out cycles per month (each posts once to every member). */
  cycles: number;
  connectionMinutes: number;
}

const apigw = (bytes: number) => increments(bytes, METERING.apigwMessageBytes);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

/** What the WebSocket API itself bills is the same in every design that uses it: frames in, posts out, minutes. */
function apiGatewayDrafts(b: Basis, posts: number, postsLabel: string) {
  return {
    inbound: {
      service: 'API Gateway',
      component: 'inbound sendmessage frames',
      quantity: b.M * apigw(b.f.inboundBytes),
      priceId: 'apigwWsMessages',
    } satisfies Draft,
    posts: {
      service: 'API Gateway',
      component: `@connections posts (${postsLabel})`,
      quantity: posts * apigw(b.f.messageFrameBytes),
      priceId: 'apigwWsMessages',
    } satisfies Draft,
    minutes: {
      service: 'API Gateway',
      component: `connection minutes (${b.w.connections} open)`,
      quantity: b.connectionMinutes,
      priceId: 'apigwWsConnectionMinutes',
    } satisfies Draft,
  };
}

/** SendMessage per message: its Lambda, the MessageSent event and its DynamoDB reads and writes. */
function sendDrafts({ M, a, w, f }: Basis): Draft[] {
  const messageItemBytes = a.messageItemOverheadBytes + w.messageBytes;
  // The rate-limit bucket (Update Connections), then one transaction of three items: the room's seq (Update Rooms), the
  // message (Put Messages) and the send record (Put Sends). A transactional write costs twice a standard one.
  const sendWrites =
    writeUnits(a.connectionItemBytes) +
    METERING.transactionalWriteFactor * (1 + writeUnits(messageItemBytes) + writeUnits(a.sendItemBytes));
  // GetItem of the sender's connection (eventually consistent) and of the room's seq (strongly consistent).
  const sendReads = pageReadUnits(a.connectionItemBytes) + pageReadUnits(a.roomItemBytes, false);
  const storedGb =
    (w.messagesPerDay * Math.min(a.messageRetentionDays, w.days) * messageItemBytes +
      w.messagesPerDay * a.sendItemBytes) /
    1024 ** 3;
  return [
    { service: 'Lambda', component: 'SendMessage requests', quantity: M, priceId: 'lambdaRequests' },
    {
      service: 'Lambda',
      component: `SendMessage duration (${a.sendMessageMs} ms x ${a.sendMessageMemoryMb} MB)`,
      quantity: M * gbSeconds(a.sendMessageMs, a.sendMessageMemoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'EventBridge',
      component: 'MessageSent events',
      quantity: M * increments(f.eventEntryBytes, METERING.eventbridgeEventBytes),
      priceId: 'eventbridgeCustomEvents',
    },
    {
      service: 'DynamoDB',
      component: `writes per send (${sendWrites} WRU: rate bucket; transaction of seq, message, sends record)`,
      quantity: M * sendWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `reads per send (${sendReads} RRU: sender's connection, room's seq)`,
      quantity: M * sendReads,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `storage (${a.messageRetentionDays} d of messages + 1 d of sends records)`,
      quantity: storedGb,
      priceId: 'dynamoStorageGbMonth',
    },
  ];
}

/**
 * The fan-out: each MessageSent starts an Express execution (the rule's target), whose claim (one Deliver
 * invocation) tries the room's delivery lease (one conditional write) while it reads the room's first chunk of members
 * (one Query); an execution that finds the lease held ends, its message going with the holder's next cycle. A fresh
 * cycle of a room of one chunk is posted and released by that claim. Any other cycle runs the Query of the room index,
 * one Deliver per chunk (each reserves its posts in the account's budget: one write, or one per budget shard for a
 * chunk too big for one (reservationWrites); the first of a page renews the lease: one write) and a Deliver that frees
 * or keeps the lease (one write). A cycle of several messages has each
 * chunk Query them (counted for every cycle when rooms coalesce at all, an overcount of the quiet ones, which carry
 * their message). Without coalescing every message is its own cycle, with no lease. Not counted: the write that gives
 * back a claim's excess reservation (a room new to its Deliver environment has a whole chunk reserved). Counted high:
 * a quiet room bigger than a chunk that its environment knows, whose claim reads the first page and reserves it whole.
 */
function fanoutDrafts({ M, a, w, fan, d, cycles }: Basis): Draft[] {
  const sessions = (w.connections * w.days * 24) / a.sessionHours;
  const claimed = claimedCycles({ M, a, fan, d, cycles });
  const invocations = deliverInvocations({ M, a, fan, d, cycles });
  // Each member of a chunk is posted once a cycle: a chunk reserves as many posts as it has members.
  const reserveWrites = sum(
    fan.chunks.map((members) => reservationWrites(members, a.postingBudgetPerSecond)),
  );
  const cycleWrites = 1 + fan.pages + reserveWrites;
  // Cycles whose release found messages waiting: Deliver and the execution wait the busy room's window first.
  const windows = a.coalescing ? cycles * (1 - d.freshCycleShare) : 0;
  const leaseWrites = a.coalescing ? M + cycles * cycleWrites - claimed * fan.pages : 0;
  const claimReads = a.coalescing
    ? M * pageReadUnits(claimPageItems(w.roomSize, a) * a.roomIndexItemBytes)
    : 0;
  const batchReads =
    d.messagesPerPost > 1
      ? pageReadUnits(Math.ceil(d.messagesPerPost) * (a.messageItemOverheadBytes + w.messageBytes))
      : 0;
  return [
    {
      service: 'DynamoDB',
      component: `delivery lease and posting budget (1 WRU/message; ${cycleWrites} WRU/cycle)`,
      quantity: leaseWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `batch reads (Query of a cycle's messages, ${batchReads} RRU per Deliver chunk)`,
      quantity: cycles * fan.chunks.length * batchReads,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'Lambda',
      component: `Deliver requests (${round2(M === 0 ? 0 : invocations / M)}/message: claims, ${fan.chunks.length} chunk(s) and a release per cycle the claim did not deliver)`,
      quantity: invocations,
      priceId: 'lambdaRequests',
    },
    {
      service: 'Lambda',
      component: `Deliver duration (${sum(fan.deliverMs)} ms x ${a.deliverMemoryMb} MB /cycle; ${a.deliverOverheadMs} ms per claim or release that posts nothing; ${d.windowMs} ms per busy window)`,
      quantity:
        cycles * gbSeconds(sum(fan.deliverMs), a.deliverMemoryMb) +
        (invocations - cycles * fan.chunks.length) * gbSeconds(a.deliverOverheadMs, a.deliverMemoryMb) +
        windows * gbSeconds(d.windowMs, a.deliverMemoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'Step Functions',
      component: 'Express requests (one per MessageSent)',
      quantity: M,
      priceId: 'sfnExpressRequests',
    },
    {
      service: 'Step Functions',
      component: `Express duration (${Math.round(fan.stateMachineMs)} ms -> ${increments(fan.stateMachineMs, 100) * 100} ms x ${increments(a.stateMachineMemoryMb, 64) * 64} MB /cycle)`,
      quantity:
        cycles * expressGbSeconds(fan.stateMachineMs, a.stateMachineMemoryMb) +
        windows *
          (expressGbSeconds(fan.stateMachineMs + d.windowMs, a.stateMachineMemoryMb) -
            expressGbSeconds(fan.stateMachineMs, a.stateMachineMemoryMb)),
      priceId: 'sfnExpressGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: `RoomIndex Query (the claim's chunk per message; ${fan.pages} page(s), ${fan.queryReadUnits} RRU per cycle it did not deliver)`,
      quantity: claimReads + (cycles - claimed) * fan.queryReadUnits,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `pruning deletes (${a.staleSessionShare * 100}% of ${Math.round(sessions)} sessions, 2 WRU)`,
      quantity: sessions * a.staleSessionShare * 2,
      priceId: 'dynamoWriteRequestUnits',
    },
  ];
}

/**
 * Logs per invocation (SendMessage per message, Deliver per chunk and cycle); traces per message: SendMessage's and
 * the execution's (Tracing on both; Deliver's segments join the execution's trace, and EventBridge may carry the
 * sender's trace into it, which would make one); the custom metrics.
 */
function observabilityDrafts({ M, a, w, fan, d, cycles }: Basis): Draft[] {
  const invocations = M + deliverInvocations({ M, a, fan, d, cycles });
  const tracesPerMessage = 2;
  const tracedRequests = M * tracesPerMessage;
  const reservoir = a.xrayReservoirPerSecond * w.days * 86_400;
  const sampledTraces =
    Math.min(tracedRequests, reservoir) + Math.max(0, tracedRequests - reservoir) * a.xraySampleShare;
  const perMessage = M === 0 ? 0 : invocations / M;
  return [
    {
      service: 'CloudWatch Logs',
      component: `ingestion (${round2(perMessage)} invocation(s)/message x ${a.logBytesPerInvocation} B at LogLevel INFO; FanoutLogLevel ERROR)`,
      quantity: (invocations * a.logBytesPerInvocation) / 1024 ** 3,
      priceId: 'cloudwatchLogsIngestedGb',
    },
    {
      service: 'X-Ray',
      component: `traces recorded (${a.xrayReservoirPerSecond}/s, then ${a.xraySampleShare * 100}% of ${tracesPerMessage} traces/message)`,
      quantity: sampledTraces,
      priceId: 'xrayTracesRecorded',
    },
    {
      service: 'CloudWatch',
      component: `custom metrics (${a.customMetrics}, service dimension)`,
      quantity: (a.customMetrics * w.days) / 30,
      priceId: 'cloudwatchCustomMetricMonths',
    },
  ];
}

const round2 = (n: number) => Math.round(n * 100) / 100;

type FanoutBasis = Pick<Basis, 'M' | 'a' | 'fan' | 'd' | 'cycles'>;

/** Members the claim reads with the lease: one more than a chunk, which tells a room of one chunk from a bigger one. */
const claimPageItems = (roomSize: number, a: Basis['a']) => Math.min(roomSize, a.chunkSize + 1);

/** Cycles a claim posts and releases itself: the fresh cycles of a room of one chunk (none without the lease). */
function claimedCycles({ a, fan, d, cycles }: FanoutBasis): number {
  return a.coalescing && fan.chunks.length === 1 ? cycles * d.freshCycleShare : 0;
}

/** Deliver invocations a month: every execution's claim; each cycle its claim did not deliver, its chunks and a release. */
function deliverInvocations(b: FanoutBasis): number {
  if (!b.a.coalescing) return b.cycles * b.fan.chunks.length;
  return b.M + (b.cycles - claimedCycles(b)) * (b.fan.chunks.length + 1);
}

function postsLabel(d: Delivery, roomSize: number): string {
  if (d.messagesPerPost <= 1.000_5) return `${roomSize}/message`;
  return `${round2(d.postsPerMessage)}/message: ${round2(d.messagesPerPost)} messages per batch`;
}

export function roomcastDesign(b: Basis): DesignCost {
  const api = apiGatewayDrafts(b, b.cycles * b.w.roomSize, postsLabel(b.d, b.w.roomSize));
  const ack: Draft = {
    service: 'API Gateway',
    component: 'ack route responses',
    quantity: b.M * apigw(b.f.ackBytes),
    priceId: 'apigwWsMessages',
  };
  const notes = [
    'Logs, traces and metrics are at the template defaults; LogLevel DEBUG or FanoutLogLevel ALL add log lines per message, each billed as ingestion.',
  ];
  if (b.a.coalescing) {
    notes.push(
      'Not counted: a claim that reserved its posts early and found its room busy gives them back, 2 writes per Deliver environment each time a room it delivered alone turns busy.',
    );
    if (b.w.roomSize > b.a.chunkSize)
      notes.push(
        "Counted high: a quiet cycle of a room its Deliver environment knows reads the first page in the claim instead of the state machine's Query, and reserves the page's posts at once instead of chunk by chunk.",
      );
  }
  if (b.d.overBudget) {
    notes.push(
      `Over the posting budget: even full batches of ${b.d.maxBatch} need ${Math.round(b.d.postsPerSecond)} posts/s, more than ${b.a.postingBudgetPerSecond}/s; the fan-out falls behind and messages queue.`,
    );
  }
  return design(
    'roomcast',
    'roomcast (EventBridge + Express Map + Deliver chunks)',
    [
      api.inbound,
      ack,
      api.posts,
      api.minutes,
      ...sendDrafts(b),
      ...fanoutDrafts(b),
      ...observabilityDrafts(b),
    ],
    b.M,
    b.prices,
    notes,
  );
}

export function tutorialDesign(b: Basis): DesignCost {
  const { w, a, M } = b;
  const api = apiGatewayDrafts(b, M * w.roomSize, `${w.roomSize}/message`);
  const scan = pagedReadUnits(w.connections, a.connectionItemBytes);
  const tutorialMs = tutorialDuration(w.roomSize, scan.pages, a);
  const notes = [
    'Stores no messages (no history, no seq, no idempotency), so it has no DynamoDB writes per message.',
    `Each message Scans all ${w.connections} connections (${scan.pages} page(s), ${scan.units} RRU) and posts to its ${w.roomSize} room members one after the other: ${tutorialMs} ms per message.`,
  ];
  if (tutorialMs > a.lambdaMaxMs) {
    notes.push(
      `A ${tutorialMs} ms run exceeds Lambda's ${a.lambdaMaxMs} ms limit: the tutorial design cannot deliver to rooms this large at all.`,
    );
  }
  return design(
    'tutorial',
    'tutorial (one Lambda: Scan all + sequential posts)',
    [
      api.inbound,
      api.posts,
      api.minutes,
      { service: 'Lambda', component: 'requests', quantity: M, priceId: 'lambdaRequests' },
      {
        service: 'Lambda',
        component: `duration (${tutorialMs} ms x ${a.tutorialMemoryMb} MB)`,
        quantity: M * gbSeconds(tutorialMs, a.tutorialMemoryMb),
        priceId: 'lambdaArmGbSeconds',
      },
      {
        service: 'DynamoDB',
        component: `Scan of all connections (${scan.units} RRU/message)`,
        quantity: M * scan.units,
        priceId: 'dynamoReadRequestUnits',
      },
    ],
    M,
    b.prices,
    notes,
  );
}

/** AppSync Events bills each message delivered to each subscriber: nothing to coalesce on the bill. */
export function appsyncDesign({ M, w, f, connectionMinutes, prices }: Basis): DesignCost {
  const operations = increments(f.messageFrameBytes, METERING.appsyncEventBytes);
  return design(
    'appsync',
    'AppSync Events (publish to a channel per room)',
    [
      {
        service: 'AppSync Events',
        component: 'publish operations',
        quantity: M * operations,
        priceId: 'appsyncEventsOperations',
      },
      {
        service: 'AppSync Events',
        component: `outbound messages (${w.roomSize}/message)`,
        quantity: M * w.roomSize * operations,
        priceId: 'appsyncEventsOperations',
      },
      {
        service: 'AppSync Events',
        component: `connection minutes (${w.connections} open)`,
        quantity: connectionMinutes,
        priceId: 'appsyncEventsConnectionMinutes',
      },
    ],
    M,
    prices,
    [
      'Pure pub/sub: no stored history, no per-room seq, no idempotent sends, no membership list;',
      'adding those (a publish handler or a Lambda + DynamoDB) adds cost not counted here.',
    ],
  );
}

export function tutorialDuration(roomSize: number, scanPages: number, a: Assumptions): number {
  return a.tutorialOverheadMs + scanPages * a.tutorialScanPageMs + roomSize * a.postLatencyMs;
}
