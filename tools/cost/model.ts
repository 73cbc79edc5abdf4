// Monthly AWS cost of a chat workload, by component, for three designs:
//   roomcast  - SendMessage Lambda stores the message in the room's log and, when the room sleeps, wakes it
//               (EventBridge -> SQS FIFO -> Pipe -> Express state machine: read the log, Query the room index, Map over
//               chunks -> Deliver Lambda per chunk posting concurrently; this repository's template.yaml); a busy
//               room's messages coalesce into one batch frame per member and cycle (tools/cost/coalescing.ts), its
//               cycles run back to back in one execution per turn (tools/cost/wakes.ts);
//   tutorial  - the AWS tutorials' design: one Lambda per message that Scans the whole connections table and posts
//               to each member in turn;
//   appsync   - AWS AppSync Events: publish once, AppSync delivers to every subscriber of the channel.
// Pure arithmetic: no I/O, no clock. Prices come in as a table (tools/cost/prices.ts) so tests can use round numbers.

/** The fan-out waits no window before a busy room's next batch: the queue hands it out as soon as the last is done. */
const BUSY_WINDOW_MS = 0;

import { keyLevelFor } from '#core/aws/roomMembers';
import { CYCLE_BYTES, CYCLE_EVENTS, ROOM_TURN_MS } from '#deliver/roomLog';
import { SETTINGS } from '#platform/settingsSchema';
import { batchCapacity, coalesce } from './coalescing';
import { appsyncDesign, type Basis, roomcastDesign, tutorialDesign } from './designs';
import { pageReadUnits } from './metering';
import { METERING, PRICES, type PriceTable } from './prices';
import { spells } from './wakes';

export { tutorialDuration } from './designs';
export type {
  Assumptions,
  Delivery,
  Design,
  DesignCost,
  FanoutShape,
  FanoutWork,
  FrameSizes,
  LineItem,
  Workload,
} from './types';

import type {
  Assumptions,
  Delivery,
  Design,
  DesignCost,
  FanoutShape,
  FanoutWork,
  FrameSizes,
  Workload,
} from './types';

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

export const DEFAULT_WORKLOAD: Workload = {
  roomSize: 100,
  messagesPerDay: 100_000,
  connections: 5_000,
  days: 30,
  messageBytes: 200,
};

/** Defaults; tools/cost/cli.ts replaces the template-owned ones (chunk, page, concurrency, memory) with template.yaml's. */
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
  // The fan-out's default budget, the FanoutPostsPerSecond setting's default (its one source).
  postingBudgetPerSecond: SETTINGS.FanoutPostsPerSecond.default,
  // The fan-out pipe's batch (template.yaml, FanoutPipe BatchSize; tools/cost/cli.ts reads it from there).
  pipeBatchSize: 10,
  fanoutQueue: 'wakes',
  takeToStoreMs: 10,
  dynamoRequestMs: 10,
  // A send dies between its take and its store only with its invocation: none at the default.
  unstoredSeqShare: 0,
  // A stage within its posting budget is not throttled: none at the default.
  throttledChunkShare: 0,
};

export interface CostReport {
  workload: Workload;
  assumptions: Assumptions;
  messagesPerMonth: number;
  frames: FrameSizes;
  fanout: FanoutShape;
  delivery: Delivery;
  work: FanoutWork;
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
    escapedFrameBytes: bytes(JSON.stringify(frame)),
    // PutEvents entry size: Time (14 bytes when set), Source, DetailType, Detail, Resources.
    eventEntryBytes: 14 + bytes('roomcast.chat') + bytes('MessageSent') + bytes(detail),
    batchWrapperBytes: bytes({ type: 'batch', roomId: SAMPLE_ROOM, messages: [] }),
  };
}

// ------------------------------------------------------------------ the fan-out of one message

/**
 * Queries, chunks and timings of one fan-out to a room, as statemachines/fanout.asl.json runs it: the Map over the
 * room's keys in the room index (as many as its key level, core/aws/roomMembers.ts keyLevelFor: 1 up to 100 members,
 * ⌈members / 100⌉ above, at most 12) runs them side by side; each key is Queried page after page of `pageSize` (a
 * page that stops at the Limit carries a LastEvaluatedKey, so one more Query follows, empty when the key's members
 * fill whole pages), and each page's members are split into chunks, at most `maxConcurrency` at once. Members spread
 * evenly over the keys (a stable hash of their connection ids).
 */
export function fanoutShape(
  roomSize: number,
  a: Assumptions,
  keys: number = keyLevelFor(roomSize),
): FanoutShape {
  const chunks: number[] = [];
  const deliverMs: number[] = [];
  let pages = 0;
  let queryReadUnits = 0;
  let stateMachineMs = 0;
  for (let key = 0; key < keys; key++) {
    const share = Math.floor(roomSize / keys) + (key < roomSize % keys ? 1 : 0);
    let keyMs = 0;
    for (let left = share; ; left -= a.pageSize) {
      const pageItems = Math.min(left, a.pageSize);
      pages++;
      queryReadUnits += pageReadUnits(pageItems * a.roomIndexItemBytes);
      keyMs += a.queryMs;
      const pageChunks: number[] = [];
      for (let rest = pageItems; rest > 0; rest -= a.chunkSize) pageChunks.push(Math.min(rest, a.chunkSize));
      const pageDeliverMs = pageChunks.map((n) => deliverDuration(n, a));
      // Map rounds: at most maxConcurrency chunks at once; a round lasts as long as its slowest chunk.
      for (let i = 0; i < pageDeliverMs.length; i += a.maxConcurrency) {
        keyMs += a.lambdaTaskOverheadMs + Math.max(...pageDeliverMs.slice(i, i + a.maxConcurrency));
      }
      chunks.push(...pageChunks);
      deliverMs.push(...pageDeliverMs);
      if (pageItems < a.pageSize) break;
    }
    stateMachineMs = Math.max(stateMachineMs, keyMs);
  }
  return { keys, pages, chunks, queryReadUnits, deliverMs, stateMachineMs };
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

/** Rooms, their rate, the cycle and what coalescing makes of them (tools/cost/coalescing.ts). */
export function delivery(w: Workload, a: Assumptions, f: FrameSizes, fan: FanoutShape): Delivery {
  const rooms = w.rooms ?? Math.max(1, Math.floor(w.connections / w.roomSize));
  const messagesPerSecondPerRoom = w.messagesPerDay / 86_400 / rooms;
  const cycleMs = a.fanoutCycleMs ?? fan.stateMachineMs + a.queryMs;
  // A cycle reads at most CYCLE_EVENTS events and CYCLE_BYTES of escaped frames from the log (roomLog.ts); with
  // every event queued, an execution takes at most the pipe's batch. Either way a frame holds what fits 32 KB.
  const perCycle =
    a.fanoutQueue === 'wakes'
      ? Math.min(CYCLE_EVENTS, Math.max(1, Math.floor(CYCLE_BYTES / f.escapedFrameBytes)))
      : a.pipeBatchSize;
  const maxBatch = a.coalescing
    ? Math.min(perCycle, batchCapacity(f.messageFrameBytes, f.batchWrapperBytes, METERING.apigwMessageBytes))
    : 1;
  const windowMs = a.coalescing ? BUSY_WINDOW_MS : 0;
  const coalescing = coalesce({
    roomSize: w.roomSize,
    rooms,
    messagesPerSecond: messagesPerSecondPerRoom,
    cycleMs,
    postingBudgetPerSecond: a.coalescing ? a.postingBudgetPerSecond : Number.POSITIVE_INFINITY,
    maxBatch,
    windowMs,
  });
  return {
    ...coalescing,
    rooms,
    messagesPerSecondPerRoom,
    cycleMs,
    cycleSource: a.fanoutCycleMs === undefined ? 'estimated' : 'given',
    maxBatch,
    windowMs,
  };
}

/**
 * The fan-out's work a month: its cycles (one per post to each member), and with wakes the executions, wakes, spells
 * and hand-offs that carry them (tools/cost/wakes.ts); seqs fenced and chunks reposted at their assumed shares.
 */
export function fanoutWork(M: number, a: Assumptions, d: Delivery, fan: FanoutShape): FanoutWork {
  const cycles = M / d.messagesPerPost;
  const reposts = cycles * fan.chunks.length * a.throttledChunkShare;
  if (a.fanoutQueue === 'events') {
    return {
      cycles,
      executions: cycles,
      wakes: 0,
      spells: 0,
      handOffs: 0,
      awakeShare: 0,
      cyclesPerTurn: 1,
      cyclesPerExecution: 1,
      fences: 0,
      reposts,
    };
  }
  const s = spells({
    cycles,
    messagesPerSecond: d.messagesPerSecondPerRoom,
    takeToStoreMs: a.takeToStoreMs,
    cycleMs: d.effectiveCycleMs,
    turnMs: ROOM_TURN_MS,
  });
  return { cycles, ...s, fences: M * a.unstoredSeqShare, reposts };
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
  const work = fanoutWork(M, a, d, fan);
  const basis: Basis = {
    w,
    a,
    prices,
    M,
    f,
    fan,
    d,
    cycles: work.cycles,
    work,
    connectionMinutes: w.connections * w.days * 24 * 60,
  };
  return {
    workload: w,
    assumptions: a,
    messagesPerMonth: M,
    frames: f,
    fanout: fan,
    delivery: d,
    work,
    designs: {
      roomcast: roomcastDesign(basis),
      tutorial: tutorialDesign(basis),
      appsync: appsyncDesign(basis),
    },
    pricesAsOf: [...new Set(Object.values(prices).map((p) => p.asOf))].sort(),
  };
}
