// The cost model's shapes, shared by model.ts (the arithmetic), designs.ts (line items) and metering.ts (billing).

import type { Coalescing } from './coalescing';
import type { PriceId } from './prices';

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
  /** Size of a RoomSubscribers entry (roomKey, connectionId, roomId, username) as Query reads it. */
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
  /** Custom metrics roomcast emits (METRIC in functions/platform/powertools.ts and the state machine's), one dimension set each. */
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
  /** Queue records the fan-out pipe hands one execution at most (template.yaml, FanoutPipe's BatchSize). */
  pipeBatchSize: number;
  /**
   * What the fan-out queue carries. `wakes`: one RoomWake per awake spell of a room, its messages read from the
   * room's log (the stack as built). `events`: every event, for comparison (one queue message and one Pipes request
   * per message, at most `pipeBatchSize` of a room's messages per execution).
   */
  fanoutQueue: 'wakes' | 'events';
  /**
   * A send's gap between taking its seq and storing its message (one DynamoDB write), ms: a read of the room in that
   * gap finds a seq taken and not stored, and the room stays awake for another cycle instead of sleeping.
   */
  takeToStoreMs: number;
  /** One DynamoDB request (or PutEvents) from Deliver, ms. */
  dynamoRequestMs: number;
  /** Share of seqs taken and never stored (their sender died between the two writes): each is fenced by one PutItem. */
  unstoredSeqShare: number;
  /** Share of chunks whose first post meets a 429/5xx: its members go to the repost machine through the bus. */
  throttledChunkShare: number;
}

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
  /** The room's keys in the room index (its key level): Queried side by side. */
  keys: number;
  /** Queries of the room index, every key's pages (each key's first, even when empty). */
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
  /** A message frame as a JSON string in the execution's state (how a cycle's byte bound counts it). */
  escapedFrameBytes: number;
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
  /** A busy room's window before its next cycle (the fan-out's BUSY_WINDOW_MS), ms. */
  windowMs: number;
}

/**
 * The fan-out's work a month, as its machine does it: cycles (a read of the room's log, its posts, SaveCursor), the
 * executions that run them (each started by one wake), the awake spells they end and the turns they hand on.
 */
export interface FanoutWork {
  /** Cycles a month over all rooms: each reads the room once and posts once to every member (per frame). */
  cycles: number;
  /** Express executions a month (one per queue record: a wake, or with `events` a batch of a room's events). */
  executions: number;
  /** RoomWake entries a month (0 with `events`): one per spell and one per hand-off. */
  wakes: number;
  /** Awake spells a month, each ended by one conditional UpdateItem on the room's item (0 with `events`). */
  spells: number;
  /** Turns handed on: the mark renewed (one UpdateItem) and a wake published (0 with `events`). */
  handOffs: number;
  /** Share of cycles after which the room stays awake (a seq taken and not yet stored at the read). */
  awakeShare: number;
  /** Most cycles one execution runs before it hands the room on (its turn). */
  cyclesPerTurn: number;
  /** Cycles one execution runs on average. */
  cyclesPerExecution: number;
  /** Seqs fenced a month (one PutItem each). */
  fences: number;
  /** Chunks handed to the repost machine a month (one PutEvents entry and one Express execution each). */
  reposts: number;
}
