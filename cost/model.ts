// Monthly AWS cost of a chat workload, by component, for three designs:
//   roomcast  - SendMessage Lambda -> EventBridge -> Express state machine (Query the room index, Map over chunks)
//               -> Deliver Lambda per chunk posting concurrently (this repository's template.yaml); a busy room's
//               messages coalesce into one batch frame per member and cycle (cost/coalescing.ts);
//   tutorial  - the AWS tutorials' design: one Lambda per message that Scans the whole connections table and posts
//               to each member in turn;
//   appsync   - AWS AppSync Events: publish once, AppSync delivers to every subscriber of the channel.
// Pure arithmetic: no I/O, no clock. Prices come in as a table (cost/prices.ts) so tests can use round numbers.

import { batchCapacity, type Coalescing, coalesce } from './coalescing';
import { appsyncDesign, type Basis, roomcastDesign, tutorialDesign } from './designs';
import { pageReadUnits } from './metering';
import { METERING, PRICES, type PriceId, type PriceTable } from './prices';

export { tutorialDuration } from './designs';
export {
  expressGbSeconds,
  gbSeconds,
  increments,
  pagedReadUnits,
  pageReadUnits,
  priceItems,
  tieredCost,
  writeUnits,
} from './metering';

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
  /**
   * Rooms the messages spread over evenly, each at messagesPerDay ÷ rooms ÷ 86,400 messages a second, all day
   * (how busy a room is decides how much its delivery coalesces). Default: connections ÷ roomSize.
   */
  rooms?: number;
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
  /** Busy rooms' messages coalesce into one batch frame per member and fan-out cycle; false: one post per message. */
  coalescing: boolean;
  /**
   * One fan-out cycle of a room, ms: taking its pending messages and delivering them. Undefined: the execution this
   * model estimates for the room (Query pages, Map rounds, Deliver posts) plus one DynamoDB read (`queryMs`) to take
   * the pending messages.
   */
  fanoutCycleMs?: number;
  /** Posts per second the fan-out allows itself across the account; rooms that compete for it coalesce harder. */
  postingBudgetPerSecond: number;
  /** Most messages one fan-out cycle takes from a room's backlog. */
  messagesPerCycle: number;
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
  customMetrics: 16,
  coalescing: true,
  fanoutCycleMs: undefined,
  // The fan-out's default budget: headroom under API Gateway's account throttle of 10,000 requests/s, which the
  // API's own routes share.
  postingBudgetPerSecond: 8_000,
  messagesPerCycle: 100,
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

export interface FrameSizes {
  inboundBytes: number;
  ackBytes: number;
  messageFrameBytes: number;
  eventEntryBytes: number;
  /** A batch frame's bytes besides its messages (`{"type":"batch","roomId":..,"messages":[]}`). */
  batchWrapperBytes: number;
}

/** The delivery of one room's traffic: its rate, the cycle time used and what coalescing makes of them. */
export interface Delivery extends Coalescing {
  rooms: number;
  messagesPerSecondPerRoom: number;
  /** The cycle time the model was given or derived, and how. */
  cycleMs: number;
  cycleSource: 'given' | 'estimated';
  /** Messages one batch frame can hold (32 KB). */
  maxBatch: number;
}

export interface CostReport {
  workload: Workload;
  assumptions: Assumptions;
  messagesPerMonth: number;
  frames: FrameSizes;
  fanout: FanoutShape;
  delivery: Delivery;
  designs: Record<Design, DesignCost>;
  pricesAsOf: string[];
}

// ------------------------------------------------------------------ frames, as the code builds them

const SAMPLE_ID = '00000000-0000-4000-8000-000000000000';
const SAMPLE_ROOM = 'K7M2QD';
const SAMPLE_USER = 'user-1234567';
const SAMPLE_TIME = '2025-01-01T12:00:00.000Z';

export function frameSizes(messageBytes: number): FrameSizes {
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
    batchWrapperBytes: bytes({ type: 'batch', roomId: SAMPLE_ROOM, messages: [] }),
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
export function validateWorkload(w: Workload): void {
  for (const [name, value] of Object.entries(w)) {
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0)
      throw new RangeError(`${name} must be a number >= 0, got ${value}`);
  }
  if (w.roomSize < 1 || !Number.isInteger(w.roomSize))
    throw new RangeError('roomSize must be a whole number >= 1');
  if (w.connections < w.roomSize) throw new RangeError('connections must be at least roomSize');
  if (w.rooms !== undefined && w.rooms <= 0) throw new RangeError('rooms must be above 0');
}

// ------------------------------------------------------------------ delivery: how many posts a message costs

/** Rooms, their rate, the cycle and what coalescing makes of them (cost/coalescing.ts). */
export function delivery(w: Workload, a: Assumptions, f: FrameSizes, fan: FanoutShape): Delivery {
  const rooms = w.rooms ?? Math.max(1, Math.floor(w.connections / w.roomSize));
  const messagesPerSecondPerRoom = w.messagesPerDay / 86_400 / rooms;
  const cycleMs = a.fanoutCycleMs ?? fan.stateMachineMs + a.queryMs;
  const maxBatch = a.coalescing
    ? Math.min(
        a.messagesPerCycle,
        batchCapacity(f.messageFrameBytes, f.batchWrapperBytes, METERING.apigwMessageBytes),
      )
    : 1;
  const coalescing = coalesce({
    roomSize: w.roomSize,
    rooms,
    messagesPerSecond: messagesPerSecondPerRoom,
    cycleMs,
    postingBudgetPerSecond: a.coalescing ? a.postingBudgetPerSecond : Number.POSITIVE_INFINITY,
    maxBatch,
  });
  return {
    ...coalescing,
    rooms,
    messagesPerSecondPerRoom,
    cycleMs,
    cycleSource: a.fanoutCycleMs === undefined ? 'estimated' : 'given',
    maxBatch,
  };
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
  const fan = fanoutShape(w.roomSize, a);
  const d = delivery(w, a, f, fan);
  const basis: Basis = {
    w,
    a,
    prices,
    M,
    f,
    fan,
    d,
    cycles: M / d.messagesPerPost,
    connectionMinutes: w.connections * w.days * 24 * 60,
  };
  return {
    workload: w,
    assumptions: a,
    messagesPerMonth: M,
    frames: f,
    fanout: fan,
    delivery: d,
    designs: {
      roomcast: roomcastDesign(basis),
      tutorial: tutorialDesign(basis),
      appsync: appsyncDesign(basis),
    },
    pricesAsOf: [...new Set(Object.values(prices).map((p) => p.asOf))].sort(),
  };
}
