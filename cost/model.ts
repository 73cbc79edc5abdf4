// Monthly AWS cost of a chat workload, by component, for three designs:
//   roomcast  - SendMessage Lambda -> EventBridge -> Express state machine (Query the room index, Map over chunks)
//               -> Deliver Lambda per chunk posting concurrently (this repository's template.yaml);
//   tutorial  - the AWS tutorials' design: one Lambda per message that Scans the whole connections table and posts
//               to each member in turn;
//   appsync   - AWS AppSync Events: publish once, AppSync delivers to every subscriber of the channel.
// Pure arithmetic: no I/O, no clock. Prices come in as a table (cost/prices.ts) so tests can use round numbers.

import { METERING, PRICES, type PriceId, type PriceTable, type Tier } from './prices';

export interface Workload {
  /** Members of each room; every member (the sender too) receives each message. */
  roomSize: number;
  /** Chat messages sent per day, over all rooms. */
  messagesPerDay: number;
  /** WebSocket connections open on average, all month. */
  connections: number;
  /** Days in the month billed. */
  days: number;
  /** UTF-8 bytes of one chat text. */
  messageBytes: number;
}

export interface Assumptions {
  /** Connections per Deliver invocation (template parameter FanoutChunkSize). */
  chunkSize: number;
  /** Connections per Query page of the room index (FanoutPageSize). */
  pageSize: number;
  /** Deliver invocations the Map state runs at once (FanoutMaxConcurrency). */
  maxConcurrency: number;
  /** One PostToConnection round trip from Lambda, ms. */
  postLatencyMs: number;
  /** Posts one Deliver invocation has in flight at once (its keep-alive agent allows 256 sockets, above a chunk). */
  postConcurrency: number;
  sendMessageMemoryMb: number;
  /** Billed duration of one SendMessage: 3 sequential DynamoDB round trips (the last a transaction) + PutEvents, warm. */
  sendMessageMs: number;
  deliverMemoryMb: number;
  /** Deliver's own time besides the posts (parse, metrics, logs), ms. */
  deliverOverheadMs: number;
  /** One Query page of the room index from the state machine, ms. */
  queryMs: number;
  /** State machine's Lambda task hop (invoke + state transitions) per Map round, ms. */
  lambdaTaskOverheadMs: number;
  /** Memory billed for one Express execution (rounded up to 64 MB). */
  stateMachineMemoryMb: number;
  /** Size of a Connections item (connectionId, roomId, username, connectedAt, lastActiveAt, ttl). */
  connectionItemBytes: number;
  /** Size of a RoomIndex entry (roomId, connectionId, username) as Query reads it. */
  roomIndexItemBytes: number;
  /** Size of a Messages item besides the text (keys, ids, username, sentAt, ttl). */
  messageItemOverheadBytes: number;
  /** Size of a Sends (idempotency) item. */
  sendItemBytes: number;
  /** Size of a Rooms item (roomId, seq, createdAt, createdBy, inviteKey). */
  roomItemBytes: number;
  /** Days a message stays in the Messages table (MessageRetentionDays). */
  messageRetentionDays: number;
  /** Average length of one WebSocket session, hours (the gateway closes at 2 h). */
  sessionHours: number;
  /** Share of sessions whose $disconnect never runs, pruned later by the fan-out (2 WRU: item + index). */
  staleSessionShare: number;
  tutorialMemoryMb: number;
  /** Tutorial Lambda's own time besides Scan and posts, ms. */
  tutorialOverheadMs: number;
  /** One 1 MB Scan page, ms. */
  tutorialScanPageMs: number;
  /** Lambda's hard limit: a tutorial run longer than this cannot complete. */
  lambdaMaxMs: number;
  /**
   * Log bytes one invocation ingests at LogLevel INFO: Lambda's START/END/REPORT lines, one Powertools line and the
   * EMF document of its metrics (an estimate from the handlers' log statements, not a measurement).
   */
  logBytesPerInvocation: number;
  /** X-Ray's default sampling rule: the first request each second (reservoir), then this share of the rest. */
  xraySampleShare: number;
  xrayReservoirPerSecond: number;
  /** Custom metrics roomcast emits (METRIC in functions/shared/powertools.ts and the state machine's), one dimension set each. */
  customMetrics: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  roomSize: 100,
  messagesPerDay: 100_000,
  connections: 5_000,
  days: 30,
  messageBytes: 200,
};

/** Defaults; cost/cli.ts replaces the template-owned ones (chunk, page, concurrency, memory) with template.yaml's. */
export const DEFAULT_ASSUMPTIONS: Assumptions = {
  chunkSize: 100,
  pageSize: 1000,
  maxConcurrency: 10,
  postLatencyMs: 20,
  postConcurrency: 256,
  sendMessageMemoryMb: 256,
  sendMessageMs: 40,
  deliverMemoryMb: 512,
  deliverOverheadMs: 10,
  queryMs: 10,
  lambdaTaskOverheadMs: 20,
  stateMachineMemoryMb: 64,
  connectionItemBytes: 200,
  roomIndexItemBytes: 80,
  messageItemOverheadBytes: 200,
  sendItemBytes: 200,
  roomItemBytes: 150,
  messageRetentionDays: 7,
  sessionHours: 2,
  staleSessionShare: 0.01,
  tutorialMemoryMb: 256,
  tutorialOverheadMs: 20,
  tutorialScanPageMs: 30,
  lambdaMaxMs: 900_000,
  logBytesPerInvocation: 1_200,
  xraySampleShare: 0.05,
  xrayReservoirPerSecond: 1,
  customMetrics: 11,
};

export type Design = 'roomcast' | 'tutorial' | 'appsync';

export interface LineItem {
  service: string;
  component: string;
  /** Units per month. */
  quantity: number;
  priceId: PriceId;
  unit: string;
  /** USD per month. */
  usd: number;
}

export interface DesignCost {
  design: Design;
  title: string;
  items: LineItem[];
  totalUsd: number;
  usdPerMillionMessages: number;
  notes: string[];
}

export interface FanoutShape {
  pages: number;
  /** Connections in each chunk, in order. */
  chunks: number[];
  /** Query read units per fan-out. */
  queryReadUnits: number;
  /** Deliver billed ms per chunk. */
  deliverMs: number[];
  /** Express execution duration, ms, before rounding. */
  stateMachineMs: number;
}

export interface CostReport {
  workload: Workload;
  assumptions: Assumptions;
  messagesPerMonth: number;
  frames: { inboundBytes: number; ackBytes: number; messageFrameBytes: number; eventEntryBytes: number };
  fanout: FanoutShape;
  designs: Record<Design, DesignCost>;
  pricesAsOf: string[];
}

// ------------------------------------------------------------------ arithmetic helpers

/** Units billed when usage is metered in `increment`-sized steps (a 0-byte frame still bills one step). */
export function increments(bytes: number, increment: number): number {
  return Math.max(1, Math.ceil(bytes / increment));
}

/** Cost of `quantity` units under volume tiers (each tier's `upTo` is cumulative). */
export function tieredCost(quantity: number, tiers: readonly Tier[]): number {
  let usd = 0;
  let floor = 0;
  for (const tier of tiers) {
    if (quantity <= floor) break;
    const inTier = Math.min(quantity, tier.upTo) - floor;
    usd += inTier * tier.usd;
    floor = tier.upTo;
  }
  return usd;
}

/** Read units of one Query/Scan page: its bytes rounded up to 4 KB, halved for eventually consistent reads. */
export function pageReadUnits(bytes: number, eventuallyConsistent = true): number {
  const units = increments(bytes, METERING.dynamoReadUnitBytes);
  return eventuallyConsistent ? units / 2 : units;
}

/** Read units of reading `items` items of `itemBytes` each through 1 MB pages (Scan, or Query with no Limit). */
export function pagedReadUnits(items: number, itemBytes: number, pageItemLimit = Number.POSITIVE_INFINITY) {
  const perPage = Math.max(1, Math.min(pageItemLimit, Math.floor(METERING.dynamoPageBytes / itemBytes)));
  const pages = Math.max(1, Math.ceil(items / perPage));
  let units = 0;
  for (let page = 0; page < pages; page++) {
    units += pageReadUnits(Math.min(perPage, items - page * perPage) * itemBytes);
  }
  return { units, pages };
}

/** Write units of writing one item of `bytes` (1 KB steps). */
export function writeUnits(bytes: number): number {
  return increments(bytes, METERING.dynamoWriteUnitBytes);
}

/** Billed GB-seconds of a run: `ms` and `memoryMb` already rounded to their billing steps by the caller. */
export function gbSeconds(ms: number, memoryMb: number): number {
  return (ms / 1000) * (memoryMb / 1024);
}

/** Express execution: duration rounded up to 100 ms, memory up to 64 MB. */
export function expressGbSeconds(ms: number, memoryMb: number): number {
  const billedMs = increments(ms, METERING.sfnBilledMs) * METERING.sfnBilledMs;
  const billedMb = increments(memoryMb, METERING.sfnBilledMb) * METERING.sfnBilledMb;
  return gbSeconds(billedMs, billedMb);
}

// ------------------------------------------------------------------ frames, as the code builds them

const SAMPLE_ID = '00000000-0000-4000-8000-000000000000';
const SAMPLE_ROOM = 'K7M2QD';
const SAMPLE_USER = 'user-1234567';
const SAMPLE_TIME = '2025-01-01T12:00:00.000Z';

export function frameSizes(messageBytes: number) {
  const text = 'x'.repeat(messageBytes);
  const bytes = (value: unknown) =>
    Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));
  const frame = JSON.stringify({
    type: 'message',
    roomId: SAMPLE_ROOM,
    seq: 1_000_000,
    messageId: SAMPLE_ID,
    username: SAMPLE_USER,
    text,
    sentAt: SAMPLE_TIME,
  });
  const detail = JSON.stringify({
    type: 'MessageSent',
    messageId: SAMPLE_ID,
    roomId: SAMPLE_ROOM,
    payload: frame,
  });
  return {
    inboundBytes: bytes({ action: 'sendmessage', message: text, clientMsgId: SAMPLE_ID }),
    ackBytes: bytes({
      type: 'ack',
      clientMsgId: SAMPLE_ID,
      messageId: SAMPLE_ID,
      roomId: SAMPLE_ROOM,
      seq: 1e6,
    }),
    messageFrameBytes: bytes(frame),
    // PutEvents entry size: Time (14 bytes when set), Source, DetailType, Detail, Resources.
    eventEntryBytes: 14 + bytes('roomcast.chat') + bytes('MessageSent') + bytes(detail),
  };
}

// ------------------------------------------------------------------ the fan-out of one message

/** Pages, chunks and timings of one fan-out to a room, as statemachines/fanout.asl.json runs it. */
export function fanoutShape(roomSize: number, a: Assumptions): FanoutShape {
  const chunks: number[] = [];
  const deliverMs: number[] = [];
  let pages = 0;
  let queryReadUnits = 0;
  let stateMachineMs = 0;
  let left = roomSize;
  do {
    const pageItems = Math.min(left, a.pageSize);
    pages++;
    queryReadUnits += pageReadUnits(pageItems * a.roomIndexItemBytes);
    stateMachineMs += a.queryMs;
    const pageChunks: number[] = [];
    for (let rest = pageItems; rest > 0; rest -= a.chunkSize) pageChunks.push(Math.min(rest, a.chunkSize));
    const pageDeliverMs = pageChunks.map((n) => deliverDuration(n, a));
    // Map rounds: at most maxConcurrency chunks at once; a round lasts as long as its slowest chunk.
    for (let i = 0; i < pageDeliverMs.length; i += a.maxConcurrency) {
      stateMachineMs += a.lambdaTaskOverheadMs + Math.max(...pageDeliverMs.slice(i, i + a.maxConcurrency));
    }
    chunks.push(...pageChunks);
    deliverMs.push(...pageDeliverMs);
    left -= pageItems;
  } while (left > 0);
  return { pages, chunks, queryReadUnits, deliverMs, stateMachineMs };
}

/** Billed ms of one Deliver: overhead + one post latency per round of `postConcurrency` concurrent posts. */
export function deliverDuration(connections: number, a: Assumptions): number {
  return a.deliverOverheadMs + Math.ceil(connections / a.postConcurrency) * a.postLatencyMs;
}

/** Billed ms of the tutorial Lambda: overhead + Scan pages + one post after the other. */
export function tutorialDuration(roomSize: number, scanPages: number, a: Assumptions): number {
  return a.tutorialOverheadMs + scanPages * a.tutorialScanPageMs + roomSize * a.postLatencyMs;
}

// ------------------------------------------------------------------ pricing

type Draft = Omit<LineItem, 'usd' | 'unit'>;

/** Prices line items; lines sharing a tiered price are priced on their sum, then split by quantity. */
export function priceItems(drafts: Draft[], prices: PriceTable): LineItem[] {
  const totals = new Map<PriceId, number>();
  for (const d of drafts) totals.set(d.priceId, (totals.get(d.priceId) ?? 0) + d.quantity);
  return drafts.map((d) => {
    const total = totals.get(d.priceId) ?? 0;
    const price = prices[d.priceId];
    const usd = total === 0 ? 0 : (tieredCost(total, price.tiers) * d.quantity) / total;
    return { ...d, unit: price.unit, usd };
  });
}

function design(
  id: Design,
  title: string,
  drafts: Draft[],
  messagesPerMonth: number,
  prices: PriceTable,
  notes: string[],
): DesignCost {
  const items = priceItems(drafts, prices);
  const totalUsd = items.reduce((sum, i) => sum + i.usd, 0);
  const usdPerMillionMessages = messagesPerMonth === 0 ? 0 : (totalUsd / messagesPerMonth) * 1e6;
  return { design: id, title, items, totalUsd, usdPerMillionMessages, notes };
}

export function validateWorkload(w: Workload): void {
  for (const [name, value] of Object.entries(w)) {
    if (!Number.isFinite(value) || value < 0)
      throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  }
  if (w.roomSize < 1 || !Number.isInteger(w.roomSize))
    throw new RangeError('roomSize must be a whole number >= 1');
  if (w.connections < w.roomSize) throw new RangeError('connections must be at least roomSize');
}

export function estimate(
  workload: Workload,
  assumptions: Assumptions = DEFAULT_ASSUMPTIONS,
  prices: PriceTable = PRICES,
): CostReport {
  validateWorkload(workload);
  const w = workload;
  const a = assumptions;
  const M = w.messagesPerDay * w.days;
  const f = frameSizes(w.messageBytes);
  const apigw = (bytes: number) => increments(bytes, METERING.apigwMessageBytes);
  const connectionMinutes = w.connections * w.days * 24 * 60;
  const fan = fanoutShape(w.roomSize, a);
  const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);

  // ---------------------------------------------------------------- roomcast
  // Logged invocations per message: SendMessage and one Deliver per chunk. Traces per message: SendMessage's and the
  // execution's (Tracing on both; Deliver's segments join the execution's trace, and EventBridge may carry the
  // sender's trace into it, which would make one).
  const invocationsPerMessage = 1 + fan.chunks.length;
  const tracesPerMessage = 2;
  const tracedRequests = M * tracesPerMessage;
  const reservoir = a.xrayReservoirPerSecond * w.days * 86_400;
  const sampledTraces =
    Math.min(tracedRequests, reservoir) + Math.max(0, tracedRequests - reservoir) * a.xraySampleShare;
  const messageItemBytes = a.messageItemOverheadBytes + w.messageBytes;
  // The rate-limit bucket (Update Connections), then one transaction of three items: the room's seq (Update Rooms), the
  // message (Put Messages) and the send record (Put Sends). A transactional write costs twice a standard one.
  const sendWrites =
    writeUnits(a.connectionItemBytes) +
    METERING.transactionalWriteFactor * (1 + writeUnits(messageItemBytes) + writeUnits(a.sendItemBytes));
  // GetItem of the sender's connection (eventually consistent) and of the room's seq (strongly consistent).
  const sendReads = pageReadUnits(a.connectionItemBytes) + pageReadUnits(a.roomItemBytes, false);
  const sessions = (w.connections * w.days * 24) / a.sessionHours;
  const prunes = sessions * a.staleSessionShare;
  const storedGb =
    (w.messagesPerDay * Math.min(a.messageRetentionDays, w.days) * messageItemBytes +
      w.messagesPerDay * a.sendItemBytes) /
    1024 ** 3;
  // What the WebSocket API itself bills is the same in every design that uses it: frames in, posts out, minutes.
  const inboundFrames: Draft = {
    service: 'API Gateway',
    component: 'inbound sendmessage frames',
    quantity: M * apigw(f.inboundBytes),
    priceId: 'apigwWsMessages',
  };
  const connectionPosts: Draft = {
    service: 'API Gateway',
    component: `@connections posts (${w.roomSize}/message)`,
    quantity: M * w.roomSize * apigw(f.messageFrameBytes),
    priceId: 'apigwWsMessages',
  };
  const connectionTime: Draft = {
    service: 'API Gateway',
    component: `connection minutes (${w.connections} open)`,
    quantity: connectionMinutes,
    priceId: 'apigwWsConnectionMinutes',
  };
  const roomcast = design(
    'roomcast',
    'roomcast (EventBridge + Express Map + Deliver chunks)',
    [
      inboundFrames,
      {
        service: 'API Gateway',
        component: 'ack route responses',
        quantity: M * apigw(f.ackBytes),
        priceId: 'apigwWsMessages',
      },
      connectionPosts,
      connectionTime,
      { service: 'Lambda', component: 'SendMessage requests', quantity: M, priceId: 'lambdaRequests' },
      {
        service: 'Lambda',
        component: `SendMessage duration (${a.sendMessageMs} ms x ${a.sendMessageMemoryMb} MB)`,
        quantity: M * gbSeconds(a.sendMessageMs, a.sendMessageMemoryMb),
        priceId: 'lambdaArmGbSeconds',
      },
      {
        service: 'Lambda',
        component: `Deliver requests (${fan.chunks.length} chunk(s)/message)`,
        quantity: M * fan.chunks.length,
        priceId: 'lambdaRequests',
      },
      {
        service: 'Lambda',
        component: `Deliver duration (${sum(fan.deliverMs)} ms x ${a.deliverMemoryMb} MB /message)`,
        quantity: M * gbSeconds(sum(fan.deliverMs), a.deliverMemoryMb),
        priceId: 'lambdaArmGbSeconds',
      },
      {
        service: 'EventBridge',
        component: 'MessageSent events',
        quantity: M * increments(f.eventEntryBytes, METERING.eventbridgeEventBytes),
        priceId: 'eventbridgeCustomEvents',
      },
      {
        service: 'Step Functions',
        component: 'Express requests',
        quantity: M,
        priceId: 'sfnExpressRequests',
      },
      {
        service: 'Step Functions',
        component: `Express duration (${Math.round(fan.stateMachineMs)} ms -> ${increments(fan.stateMachineMs, 100) * 100} ms x ${increments(a.stateMachineMemoryMb, 64) * 64} MB)`,
        quantity: M * expressGbSeconds(fan.stateMachineMs, a.stateMachineMemoryMb),
        priceId: 'sfnExpressGbSeconds',
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
        component: `RoomIndex Query (${fan.pages} page(s), ${fan.queryReadUnits} RRU/message)`,
        quantity: M * fan.queryReadUnits,
        priceId: 'dynamoReadRequestUnits',
      },
      {
        service: 'DynamoDB',
        component: `pruning deletes (${a.staleSessionShare * 100}% of ${Math.round(sessions)} sessions, 2 WRU)`,
        quantity: prunes * 2,
        priceId: 'dynamoWriteRequestUnits',
      },
      {
        service: 'DynamoDB',
        component: `storage (${a.messageRetentionDays} d of messages + 1 d of sends records)`,
        quantity: storedGb,
        priceId: 'dynamoStorageGbMonth',
      },
      {
        service: 'CloudWatch Logs',
        component: `ingestion (${invocationsPerMessage} invocation(s)/message x ${a.logBytesPerInvocation} B at LogLevel INFO; FanoutLogLevel ERROR)`,
        quantity: (M * invocationsPerMessage * a.logBytesPerInvocation) / 1024 ** 3,
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
    ],
    M,
    prices,
    [
      'Logs, traces and metrics are at the template defaults; LogLevel DEBUG or FanoutLogLevel ALL add log lines per message, each billed as ingestion.',
    ],
  );

  // ---------------------------------------------------------------- tutorial
  const scan = pagedReadUnits(w.connections, a.connectionItemBytes);
  const tutorialMs = tutorialDuration(w.roomSize, scan.pages, a);
  const tutorialNotes = [
    'Stores no messages (no history, no seq, no idempotency), so it has no DynamoDB writes per message.',
    `Each message Scans all ${w.connections} connections (${scan.pages} page(s), ${scan.units} RRU) and posts to its ${w.roomSize} room members one after the other: ${tutorialMs} ms per message.`,
  ];
  if (tutorialMs > a.lambdaMaxMs) {
    tutorialNotes.push(
      `A ${tutorialMs} ms run exceeds Lambda's ${a.lambdaMaxMs} ms limit: the tutorial design cannot deliver to rooms this large at all.`,
    );
  }
  const tutorial = design(
    'tutorial',
    'tutorial (one Lambda: Scan all + sequential posts)',
    [
      inboundFrames,
      connectionPosts,
      connectionTime,
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
    prices,
    tutorialNotes,
  );

  // ---------------------------------------------------------------- AppSync Events
  const publishOps = increments(f.messageFrameBytes, METERING.appsyncEventBytes);
  const deliverOps = increments(f.messageFrameBytes, METERING.appsyncEventBytes);
  const appsync = design(
    'appsync',
    'AppSync Events (publish to a channel per room)',
    [
      {
        service: 'AppSync Events',
        component: 'publish operations',
        quantity: M * publishOps,
        priceId: 'appsyncEventsOperations',
      },
      {
        service: 'AppSync Events',
        component: `outbound messages (${w.roomSize}/message)`,
        quantity: M * w.roomSize * deliverOps,
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

  const pricesAsOf = [...new Set(Object.values(prices).map((p) => p.asOf))].sort();
  return {
    workload: w,
    assumptions: a,
    messagesPerMonth: M,
    frames: f,
    fanout: fan,
    designs: { roomcast, tutorial, appsync },
    pricesAsOf,
  };
}
