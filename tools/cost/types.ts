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
  /** Most messages one fan-out cycle takes from a room's backlog. */
  messagesPerCycle: number;
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
  /** A busy room's window before its next cycle (the fan-out's BUSY_WINDOW_MS), ms. */
  windowMs: number;
}
