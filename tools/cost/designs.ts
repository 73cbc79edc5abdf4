// The three designs' line items for one workload: roomcast (send path, fan-out, observability), the AWS tutorials'
// design and AppSync Events. Pure arithmetic over the basis estimate() computes (tools/cost/model.ts).

import { REPOST_WAIT_SECONDS } from '#deliver/post';
import { reservationWrites } from '#deliver/postBudget';
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
import type {
  Assumptions,
  Delivery,
  DesignCost,
  FanoutShape,
  FanoutWork,
  FrameSizes,
  Workload,
} from './types';

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
  /** The fan-out's executions, wakes, spells and hand-offs that carry the cycles. */
  work: FanoutWork;
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
 * The fan-out's lines, as the queue carries wakes (wakeDrafts) or every event (eventDrafts), and the lines both share:
 * per cycle the posts' chunks, each reserving its posts in the account's budget (one write, or one per budget shard
 * for a chunk too big for one: reservationWrites) and reading the room's resync notes (a Query of the sparse
 * ResyncIndex, the minimum 0.5 RRU), the room index read over its shards; the prunes of stale sessions; the reposts.
 */
function fanoutDrafts(b: Basis): Draft[] {
  return [
    ...(b.a.fanoutQueue === 'wakes' ? wakeDrafts(b) : eventDrafts(b)),
    ...cycleDrafts(b),
    ...repostDrafts(b),
  ];
}

/**
 * The queue carries wakes (docs/DECISIONS.md, "The fan-out at AWS's scale"). A send that finds its room asleep
 * publishes a RoomWake beside its MessageSent (one more PutEvents entry); the rule sends it to the FIFO queue (one
 * SendMessage), the pipe receives it (one ReceiveMessage and one DeleteMessageBatch, one Pipes request) and starts
 * one Express execution. Its cycles (tools/cost/wakes.ts) each read the room from Deliver (Prepare for the first,
 * ReadRoom for each further one): the cursor (a strong GetItem), then the log after it (a strong Query of the
 * cycle's messages) and the room's seq (a strong GetItem) together; then the posts and SaveCursor (1 WRU). A spell
 * ends with one conditional UpdateItem on the room's item; a turn handed on renews the mark (one UpdateItem) and
 * publishes a wake; a seq never stored is fenced (one PutItem of a gap marker).
 */
function wakeDrafts({ a, w, fan, work, d }: Basis): Draft[] {
  const C = work.cycles;
  const E = work.executions;
  const roomWrite = writeUnits(a.roomItemBytes);
  // The cycle's messages as the log Query reads them: its items' bytes in 4 KB steps, strongly consistent.
  const messagesPerCycle = d.messagesPerPost;
  const logUnits = pageReadUnits(messagesPerCycle * (a.messageItemOverheadBytes + w.messageBytes), false);
  // Cursor and seq: one small item each, strongly consistent.
  const readUnits = 2 * pageReadUnits(a.roomItemBytes, false) + logUnits;
  const readMs = roomReadMs(a, work);
  const executionMs = wakeExecutionMs(a, fan, work, readMs);
  return [
    {
      service: 'EventBridge',
      component: `RoomWake events (${round2(work.wakes / Math.max(1, work.cycles))} per cycle: one per awake spell and per turn handed on)`,
      quantity: work.wakes * increments(wakeEntryBytes(), METERING.eventbridgeEventBytes),
      priceId: 'eventbridgeCustomEvents',
    },
    {
      service: 'SQS',
      component:
        'FIFO fan-out queue (SendMessage per wake; ReceiveMessage + DeleteMessageBatch per execution)',
      quantity: work.wakes + 2 * E,
      priceId: 'sqsFifoRequests',
    },
    {
      service: 'EventBridge',
      component: 'Pipes requests (one per wake through the fan-out pipe)',
      quantity: work.wakes,
      priceId: 'eventbridgePipesRequests',
    },
    {
      service: 'Step Functions',
      component: `Express requests (one per wake; ${round2(work.cyclesPerExecution)} cycle(s) each)`,
      quantity: E,
      priceId: 'sfnExpressRequests',
    },
    {
      service: 'Step Functions',
      component: `Express duration (${Math.round(executionMs)} ms -> ${increments(executionMs, METERING.sfnBilledMs) * METERING.sfnBilledMs} ms x ${increments(a.stateMachineMemoryMb, 64) * 64} MB per execution)`,
      quantity: E * expressGbSeconds(executionMs, a.stateMachineMemoryMb),
      priceId: 'sfnExpressGbSeconds',
    },
    {
      service: 'Lambda',
      component: `Deliver requests (per cycle a read of the room, Prepare or ReadRoom, and ${fan.chunks.length} chunk(s); per repost one)`,
      quantity: C * (1 + fan.chunks.length) + work.reposts,
      priceId: 'lambdaRequests',
    },
    {
      service: 'Lambda',
      component: `Deliver duration (${sum(fan.deliverMs)} ms x ${a.deliverMemoryMb} MB per cycle's chunks; ${Math.round(readMs)} ms per read of the room)`,
      quantity:
        C * gbSeconds(sum(fan.deliverMs), a.deliverMemoryMb) +
        C * gbSeconds(readMs, a.deliverMemoryMb) +
        work.reposts * gbSeconds(repostDeliverMs(fan), a.deliverMemoryMb),
      priceId: 'lambdaArmGbSeconds',
    },
    {
      service: 'DynamoDB',
      component: `reads of the room (${readUnits} RRU per cycle, strong: cursor GetItem, seq GetItem, log Query of ${round2(messagesPerCycle)} message(s))`,
      quantity: C * readUnits,
      priceId: 'dynamoReadRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: "the room's fan-out cursor (SaveCursor's UpdateItem after the posts, 1 WRU per cycle)",
      quantity: C,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `sleep (conditional UpdateItem on the room's item, ${roomWrite} WRU per awake spell)`,
      quantity: work.spells * roomWrite,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `hand-offs (the awake mark renewed, ${roomWrite} WRU per turn handed on)`,
      quantity: work.handOffs * roomWrite,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `fences (PutItem of a gap marker per seq never stored: ${a.unstoredSeqShare * 100}% of seqs)`,
      quantity: work.fences * writeUnits(GAP_MARKER_BYTES),
      priceId: 'dynamoWriteRequestUnits',
    },
  ];
}

/**
 * The queue carries every event: each room event goes from the bus to the FIFO fan-out queue (one SendMessage, its
 * room the message group); the pipe receives a room's events in batches (one ReceiveMessage and one DeleteMessageBatch
 * per batch, one Pipes request per event) and starts one Express execution per batch ("cycle": a quiet room's message
 * is a batch of one). Each execution runs Prepare (one Deliver invocation, reading the cursor) and SaveCursor.
 */
function eventDrafts({ M, a, fan, work }: Basis): Draft[] {
  const cycles = work.cycles;
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
      component: `Deliver requests (Prepare and ${fan.chunks.length} chunk(s) per batch; per repost one)`,
      quantity: cycles * (fan.chunks.length + 1) + work.reposts,
      priceId: 'lambdaRequests',
    },
    {
      service: 'Lambda',
      component: `Deliver duration (${sum(fan.deliverMs)} ms x ${a.deliverMemoryMb} MB per batch's chunks; ${a.deliverOverheadMs} ms per Prepare)`,
      quantity:
        cycles * gbSeconds(sum(fan.deliverMs), a.deliverMemoryMb) +
        cycles * gbSeconds(a.deliverOverheadMs, a.deliverMemoryMb) +
        work.reposts * gbSeconds(repostDeliverMs(fan), a.deliverMemoryMb),
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
  ];
}

/** Per cycle, whichever the queue carries: the posting budget, the room index, the resync notes; and the prunes. */
function cycleDrafts({ a, w, fan, work }: Basis): Draft[] {
  const cycles = work.cycles;
  const sessions = (w.connections * w.days * 24) / a.sessionHours;
  const reserveWrites = sum(
    fan.chunks.map((members) => reservationWrites(members, a.postingBudgetPerSecond)),
  );
  return [
    {
      service: 'DynamoDB',
      component: `posting budget (${reserveWrites} WRU per cycle)`,
      quantity: cycles * reserveWrites,
      priceId: 'dynamoWriteRequestUnits',
    },
    {
      service: 'DynamoDB',
      component: `RoomSubscribers Query (the room's ${fan.keys} key(s) at its key level, ${fan.pages} Query(ies) in all, ${fan.queryReadUnits} RRU per cycle)`,
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
 * A chunk whose first post met 429/5xx hands its members to the repost machine (statemachines/repost.asl.json): one
 * Repost entry on the bus (the cycle's frames and the members to post again), one Express execution that waits
 * REPOST_WAIT_SECONDS, then one Deliver invocation (counted with Deliver's requests). Not counted: further tries for
 * members the repost still cannot reach.
 */
function repostDrafts({ a, d, f, fan, work }: Basis): Draft[] {
  const entry = increments(
    repostEntryBytes(d.messagesPerPost, f.escapedFrameBytes, Math.max(0, ...fan.chunks)),
    METERING.eventbridgeEventBytes,
  );
  const ms = repostExecutionMs(a, fan);
  return [
    {
      service: 'EventBridge',
      component: `Repost events (${a.throttledChunkShare * 100}% of chunks throttled; one per such chunk)`,
      quantity: work.reposts * entry,
      priceId: 'eventbridgeCustomEvents',
    },
    {
      service: 'Step Functions',
      component: 'repost executions (one per throttled chunk)',
      quantity: work.reposts,
      priceId: 'sfnExpressRequests',
    },
    {
      service: 'Step Functions',
      component: `repost duration (${Math.round(ms)} ms: the ${REPOST_WAIT_SECONDS} s wait and the repost)`,
      quantity: work.reposts * expressGbSeconds(ms, a.stateMachineMemoryMb),
      priceId: 'sfnExpressGbSeconds',
    },
  ];
}

/** A gap marker in the Messages table: roomId, seq, gap, ttl. */
const GAP_MARKER_BYTES = 60;

/** A RoomWake's PutEvents entry: Source, DetailType and its detail (type, messageId, roomId, seq). */
function wakeEntryBytes(): number {
  const detail = JSON.stringify({
    type: 'RoomWake',
    messageId: 'wake:K7M2QD:1000000',
    roomId: 'K7M2QD',
    seq: 1_000_000,
  });
  return Buffer.byteLength('roomcast.chat') + Buffer.byteLength('RoomWake') + Buffer.byteLength(detail);
}

/** A Repost entry: the cycle's frames as strings, and each member to post again with where it resumes. */
function repostEntryBytes(messages: number, escapedFrameBytes: number, members: number): number {
  return 200 + Math.ceil(messages) * escapedFrameBytes + members * 60;
}

/**
 * Billed ms of one read of the room by Deliver (Prepare or ReadRoom): its overhead, the cursor's GetItem, then the
 * log's Query and the seq's GetItem side by side; a spell's end adds the sleep's UpdateItem, a hand-off the mark's
 * UpdateItem and the wake's PutEvents (averaged over cycles).
 */
export function roomReadMs(a: Assumptions, work: FanoutWork): number {
  const perCycle = (n: number) => (work.cycles === 0 ? 0 : n / work.cycles);
  return (
    a.deliverOverheadMs +
    a.dynamoRequestMs * (2 + perCycle(work.spells) + 2 * perCycle(work.handOffs) + perCycle(work.fences))
  );
}

/**
 * One execution: its cycles, each a Lambda task hop to read the room (Prepare, then ReadRoom), the room index's pages
 * and Map rounds (fanoutShape) and SaveCursor (one DynamoDB request from the state machine).
 */
function wakeExecutionMs(a: Assumptions, fan: FanoutShape, work: FanoutWork, readMs: number): number {
  return work.cyclesPerExecution * (a.lambdaTaskOverheadMs + readMs + fan.stateMachineMs + a.queryMs);
}

/** Deliver's repost of a chunk: as its first post (the largest chunk's). */
function repostDeliverMs(fan: FanoutShape): number {
  return Math.max(0, ...fan.deliverMs);
}

function repostExecutionMs(a: Assumptions, fan: FanoutShape): number {
  return REPOST_WAIT_SECONDS * 1000 + a.lambdaTaskOverheadMs + repostDeliverMs(fan);
}

/**
 * Logs per invocation (SendMessage per message, Deliver per read of the room, chunk and repost); traces: SendMessage's
 * per message and each execution's (Tracing on both; Deliver's segments join the execution's trace, and EventBridge
 * may carry the sender's trace into it, which would make one); the custom metrics.
 */
function observabilityDrafts(b: Basis): Draft[] {
  const { M, a, w, work } = b;
  const invocations = M + deliverInvocations(b);
  const tracedRequests = M + work.executions + work.reposts;
  const reservoir = a.xrayReservoirPerSecond * w.days * 86_400;
  const sampledTraces =
    Math.min(tracedRequests, reservoir) + Math.max(0, tracedRequests - reservoir) * a.xraySampleShare;
  const perMessage = M === 0 ? 0 : invocations / M;
  const tracesPerMessage = M === 0 ? 0 : tracedRequests / M;
  return [
    {
      service: 'CloudWatch Logs',
      component: `ingestion (${round2(perMessage)} invocation(s)/message x ${a.logBytesPerInvocation} B at LogLevel INFO; FanoutLogLevel ERROR)`,
      quantity: (invocations * a.logBytesPerInvocation) / 1024 ** 3,
      priceId: 'cloudwatchLogsIngestedGb',
    },
    {
      service: 'X-Ray',
      component: `traces recorded (${a.xrayReservoirPerSecond}/s, then ${a.xraySampleShare * 100}% of ${round2(tracesPerMessage)} traces/message)`,
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

/** Deliver invocations a month: each cycle's read of the room (Prepare with every event queued) and chunks; reposts. */
function deliverInvocations({ fan, work }: Basis): number {
  return work.cycles * (fan.chunks.length + 1) + work.reposts;
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
  if (b.a.fanoutQueue === 'wakes') {
    notes.push(
      `Executions counted one per wake: the pipe hands up to ${b.a.pipeBatchSize} wakes of different rooms to one execution when the queue holds several (fewer executions and receives).`,
      'Not counted: a sleep refused because a seq was taken after the read (billed as a write; the reader reads on), and the wakes of a retried send or of a mark older than 10 s.',
    );
  } else {
    notes.push(
      `Every event queued: one queue message and one Pipes request per message, at most ${b.a.pipeBatchSize} of a room's messages per execution (--queue-per-event).`,
    );
  }
  if (b.d.overBudget) {
    notes.push(
      `Over the posting budget: even full batches of ${b.d.maxBatch} need ${Math.round(b.d.postsPerSecond)} posts/s, more than ${b.a.postingBudgetPerSecond}/s; the fan-out falls behind and messages queue.`,
    );
  }
  return design(
    'roomcast',
    b.a.fanoutQueue === 'wakes'
      ? 'roomcast (room log + wakes: EventBridge + SQS FIFO + Pipe + Express Map + Deliver chunks)'
      : 'roomcast, every event queued (EventBridge + SQS FIFO + Pipe + Express Map + Deliver chunks)',
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
