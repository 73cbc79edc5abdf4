// The three designs' line items for one workload: roomcast (send path, fan-out, observability), the AWS tutorials'
// design and AppSync Events. Pure arithmetic over the basis estimate() computes (tools/cost/model.ts).

import { reservationWrites } from '#deliver/postBudget';
import {
  type Draft,
  design,
  expressGbSeconds,
  gbSeconds,
  increments,
  pagedReadUnits,
  pageReadUnits,
  ROOM_INDEX_SHARDS,
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
  // Four standard writes, none in a transaction (functions/messages/sending.ts): the rate-limit bucket (Update
  // Connections), the room's seq (ADD on the room's item, charged at its size), the send record (Put Sends) and the
  // message (Put Messages).
  const sendWrites =
    writeUnits(a.connectionItemBytes) +
    writeUnits(a.roomItemBytes) +
    writeUnits(a.sendItemBytes) +
    writeUnits(messageItemBytes);
  // GetItem of the sender's connection (eventually consistent) and of the clientMsgId's record (strongly consistent).
  const sendReads = pageReadUnits(a.connectionItemBytes) + pageReadUnits(a.sendItemBytes, false);
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
      component: `writes per send (${sendWrites} WRU: rate bucket, seq, send record, message; no transaction)`,
      quantity: M * sendWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `reads per send (${sendReads} RRU: sender's connection, the clientMsgId's record)`,
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
 * The fan-out: each room event goes from the bus to the FIFO fan-out queue (one SendMessage, its room the message
 * group); the pipe receives a room's events in batches (one ReceiveMessage and one DeleteMessageBatch per batch, one
 * Pipes request per event) and starts one Express execution per batch ("cycle": a quiet room's message is a batch of
 * one). Each execution runs Prepare (one Deliver invocation), Queries the room index page by page, and posts each chunk
 * from one Deliver invocation, which reserves the chunk's posts in the account's budget (one write, or one per budget
 * shard for a chunk too big for one: reservationWrites) and reads the room's resync notes (a Query of the sparse
 * ResyncIndex, the minimum 0.5 RRU). Nothing is written per message or per cycle for order: the queue keeps it.
 */
function fanoutDrafts({ M, a, w, fan, cycles }: Basis): Draft[] {
  const sessions = (w.connections * w.days * 24) / a.sessionHours;
  const invocations = deliverInvocations({ M, a, fan, cycles });
  const reserveWrites = sum(
    fan.chunks.map((members) => reservationWrites(members, a.postingBudgetPerSecond)),
  );
  return [
    {
      service: 'SQS',
      component: 'FIFO fan-out queue (SendMessage per event; ReceiveMessage + DeleteMessageBatch per batch)',
      quantity: M + 2 * cycles,
      priceId: 'sqsFifoRequests',
    },
    {
      service: 'EventBridge',
      component: 'Pipes requests (one per event through the fan-out pipe)',
      quantity: M,
      priceId: 'eventbridgePipesRequests',
    },
    {
      service: 'DynamoDB',
      component: `posting budget (${reserveWrites} WRU per batch)`,
      quantity: cycles * reserveWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component:
        "the room's fan-out cursor (Prepare's strong GetItem; a busy room's read-ahead Query is not counted)",
      quantity: cycles,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: "the room's fan-out cursor (SaveCursor's UpdateItem after the posts, 1 WRU per batch)",
      quantity: cycles,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'Lambda',
      component: `Deliver requests (Prepare and ${fan.chunks.length} chunk(s) per batch)`,
      quantity: invocations,
      priceId: 'lambdaRequests',
    },
    {
      service: 'Lambda',
      component: `Deliver duration (${sum(fan.deliverMs)} ms x ${a.deliverMemoryMb} MB per batch's chunks; ${a.deliverOverheadMs} ms per Prepare)`,
      quantity:
        cycles * gbSeconds(sum(fan.deliverMs), a.deliverMemoryMb) +
        cycles * gbSeconds(a.deliverOverheadMs, a.deliverMemoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'Step Functions',
      component: 'Express requests (one per batch)',
      quantity: cycles,
      priceId: 'sfnExpressRequests',
    },
    {
      service: 'Step Functions',
      component: `Express duration (${Math.round(fan.stateMachineMs)} ms -> ${increments(fan.stateMachineMs, 100) * 100} ms x ${increments(a.stateMachineMemoryMb, 64) * 64} MB per batch)`,
      quantity: cycles * expressGbSeconds(fan.stateMachineMs, a.stateMachineMemoryMb),
      priceId: 'sfnExpressGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: `RoomSubscribers Query (each of its ${ROOM_INDEX_SHARDS} shards, ${fan.pages} page(s) in all, ${fan.queryReadUnits} RRU per batch)`,
      quantity: cycles * fan.queryReadUnits,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: 'ResyncIndex Query (the resync notes, one per chunk of messages)',
      quantity: cycles * fan.chunks.length * 0.5,
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
function observabilityDrafts({ M, a, w, fan, cycles }: Basis): Draft[] {
  const invocations = M + deliverInvocations({ M, a, fan, cycles });
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

type FanoutBasis = Pick<Basis, 'M' | 'a' | 'fan' | 'cycles'>;

/** Deliver invocations a month: each batch's Prepare and its chunks. */
function deliverInvocations(b: FanoutBasis): number {
  return b.cycles * (b.fan.chunks.length + 1);
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
  notes.push(
    "Not counted: the pipe's idle long polls of the fan-out queue (a few pollers, one ReceiveMessage per 20 s each: well under $1 a month).",
  );
  if (b.d.overBudget) {
    notes.push(
      `Over the posting budget: even full batches of ${b.d.maxBatch} need ${Math.round(b.d.postsPerSecond)} posts/s, more than ${b.a.postingBudgetPerSecond}/s; the fan-out falls behind and messages queue.`,
    );
  }
  return design(
    'roomcast',
    'roomcast (EventBridge + SQS FIFO + Pipe + Express Map + Deliver chunks)',
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
