/**
 * The model's inputs (tools/bench/awsModel.ts): the two designs, the fan-out's settings as the code and the template
 * have them, a load, and a run with its observers.
 */
import { ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { RESERVE_PATIENCE_MS } from '#deliver/budget';
import { FRAME_LIMIT_BYTES } from '#deliver/coalescing';
import { POSTS_IN_FLIGHT } from '#deliver/delivery';
import { REPOST_WAIT_SECONDS } from '#deliver/post';
import { CYCLE_BYTES, CYCLE_EVENTS, HOLE_PASS_MS, POLL_MS, ROOM_TURN_MS } from '#deliver/roomLog';
import { AWAKE_STALE_MS } from '#messages/appending';
import { SETTINGS } from '#platform/settingsSchema';
import type { AwsProfile, Latency } from '../local/awsProfile';
import { RULE_RETRIES, type RuleMachine, type StartRetry } from './expressStarts';
import type { ExtraMix } from './extraTraffic';
import type { TrafficMix } from './featureTraffic';
import type { LambdaQuotas } from './lambdaConcurrency';
import type { RouteThrottle } from './routeThrottles';
import type { SendLimits } from './sendLimits';

/** The fan-out's two designs the model compares (awsModel.ts). */
export type Design = 'queue' | 'wake';

export const DESIGNS: readonly Design[] = ['queue', 'wake'];

/** The fan-out's settings the model follows; the command line reads the template's (templateSettings in modelRuns.ts). */
export interface ModelSettings {
  /** The pipe's batch (template: FanoutPipe BatchSize), at most the profile's FIFO batch. */
  pipeBatch: number;
  /** Map Rooms' MaxConcurrency (statemachines/fanout.asl.json). */
  roomsAtOnce: number;
  /**
   * A room's index keys at most (functions/core/aws/roomMembers.ts): a room of n members is Queried over its key level,
   * keyLevelFor(n) (1 up to 100 members, a key a hundred above), capped by this.
   */
  roomKeys: number;
  /** Members a Query page holds (FanoutPageSize). */
  pageSize: number;
  /** Members a Deliver chunk posts (FanoutChunkSize). */
  chunkSize: number;
  /** Chunks posted at once per key (FanoutMaxConcurrency). */
  chunksAtOnce: number;
  /** Posts a chunk has in flight at once (functions/deliver/delivery.ts). */
  postsInFlight: number;
  /** A post's frame at most (API Gateway's WebSocket frame, functions/deliver/coalescing.ts). */
  frameBytes: number;
  /** Between a chunk's post and its repost (functions/deliver/post.ts). */
  repostWaitMs: number;
  /** The rule's RetryPolicy toward the queue (template: RoomEventsRule). */
  eventRetries: number;
  eventMaxAgeMs: number;
  /** Each machine's rule's RetryPolicy toward its StartExecution (template: RepostThrottled, LeaveRooms, BroadcastToEveryone). */
  ruleRetries: Record<RuleMachine, StartRetry>;
  /** `queue`: read-ahead's messages and bytes at most. */
  readAheadMessages: number;
  readAheadBytes: number;
  /**
   * `wake` (functions/deliver/roomLog.ts): a cycle's events and escaped bytes at most, the reader's poll while a seq
   * is being stored, how long it watches a missing seq before fencing it, and a room's turn in one execution.
   */
  cycleItems: number;
  cycleBytes: number;
  pollMs: number;
  holeMs: number;
  turnMs: number;
  /** `wake` (functions/messages/appending.ts): a take that finds the room awake for longer than this wakes it. */
  awakeStaleMs: number;
  /** A frame's bytes per message (an escaped `message` frame with its ids, sender and time; the text short). */
  messageBytes: number;
  /** The account's posting budget a second (runtime setting FanoutPostsPerSecond: its default), and how long a
   * chunk waits for room in it (functions/deliver/budget.ts). */
  postsPerSecond: number;
  budgetPatienceMs: number;
  /**
   * sendmessage's route throttle (template: the stage's RouteSettings, else its DefaultRouteSettings): one bucket for
   * every room's sends. None: no route throttle (the template's is read by tools/bench/stackLimits.ts).
   */
  sendRoute?: RouteThrottle;
  /**
   * Every route's bucket by route key (template: its RouteSettings, else the stage's DefaultRouteSettings), and the
   * stage's default for a route not listed; `sendRoute`, when given, is sendmessage's. None: that route unthrottled.
   */
  routes?: Record<string, RouteThrottle>;
  defaultRoute?: RouteThrottle;
  /**
   * Each sender's send limits (runtime settings SendRateLimit per connection, PersonSendRateLimit per person:
   * sendLimits.ts). None: no sender is limited (stackLimits.ts reads the settings schema's defaults).
   */
  sendLimits?: SendLimits;
  /** A cold start's init by function logical id, from its bundle (stackLimits.ts, lambdaConcurrency.ts). */
  lambdaInit?: Record<string, Latency>;
  /** Reserved concurrency by function logical id (template: ReservedConcurrentExecutions). */
  reservedConcurrency?: Record<string, number>;
}

/**
 * The settings as the code has them; the `queue` design's read-ahead as it was built (≤ 40 messages, ≤ 16 KB).
 * Template settings are overridden from template.yaml by the command line.
 */
export const DEFAULT_SETTINGS: ModelSettings = {
  pipeBatch: 10,
  roomsAtOnce: 10,
  roomKeys: ROOM_INDEX_SHARDS,
  pageSize: 1000,
  chunkSize: 100,
  chunksAtOnce: 10,
  postsInFlight: POSTS_IN_FLIGHT,
  frameBytes: FRAME_LIMIT_BYTES,
  repostWaitMs: REPOST_WAIT_SECONDS * 1000,
  eventRetries: 3,
  eventMaxAgeMs: 300_000,
  ruleRetries: RULE_RETRIES,
  readAheadMessages: 40,
  readAheadBytes: 16_384,
  cycleItems: CYCLE_EVENTS,
  cycleBytes: CYCLE_BYTES,
  pollMs: POLL_MS,
  holeMs: HOLE_PASS_MS,
  turnMs: ROOM_TURN_MS,
  awakeStaleMs: AWAKE_STALE_MS,
  messageBytes: 250,
  postsPerSecond: SETTINGS.FanoutPostsPerSecond.default,
  budgetPatienceMs: RESERVE_PATIENCE_MS,
};

/**
 * One load: `rooms` rooms of `members` members, each room's `senders` sending `rate` messages/s between them: each
 * message from a sender drawn at random, so each sender sends rate ÷ senders a second (sendLimits.ts holds each to
 * its person's and its connection's limit).
 */
export interface Scenario {
  name: string;
  rooms: number;
  members: number;
  /** Messages per second per room (a Poisson stream). */
  rate: number;
  /** The room's members who send (distinct people), every member when absent. */
  senders?: number;
  /** Each sender's connections its sends are spread over (tabs, devices): 1 when absent. */
  connectionsPerSender?: number;
  /** Seconds of sending; the run then drains for up to `drainSeconds` more. */
  seconds: number;
  /** This many messages per room, however long they take (the twin's hot room sends a count); `seconds` then only
   * bounds the rates and the backlog's moment. */
  messages?: number;
}

/** `wake`: what happened to a room's awake mark, in simulated time (ModelRun.onRoom). */
export interface RoomMark {
  room: number;
  /** `wake`: a take's RoomWake published; `handOff`: the mark renewed and a RoomWake published; `sleep`: cleared. */
  kind: 'wake' | 'handOff' | 'sleep';
  at: number;
}

/** One execution's part for one room: from the execution's start to the room's iteration's end (ModelRun.onRoomRun). */
export interface RoomRun {
  room: number;
  startedAt: number;
  endedAt: number;
  /** Its reads of the room's log: Prepare's and each ReadRoom's. */
  cycles: number;
}

export interface ModelRun {
  design: Design;
  scenario: Scenario;
  profile: AwsProfile;
  seed: number;
  settings?: Partial<ModelSettings>;
  drainSeconds?: number;
  /**
   * Seconds of the same load before the measured ones (default 0): environments warm and queues at their steady
   * state, as a deployed stack's steady traffic finds them. Nothing sent in them is measured.
   */
  warmupSeconds?: number;
  /** DynamoDB tables just created on demand: each serves the new table's write units, not the table quota. */
  newTables?: boolean;
  /**
   * The features' traffic beside the messages (featureTraffic.ts: typing, reads, presence, the word index, push; and
   * extraTraffic.ts: heartbeats, joins, history, search, broadcasts, push posts, SSM), by default DEFAULT_MIX and
   * DEFAULT_EXTRA_MIX; `false`: messages alone.
   */
  traffic?: Partial<TrafficMix & ExtraMix> | false;
  /** Lambda's quotas other than the AWS profile's (tests make a small account). */
  lambda?: Partial<LambdaQuotas>;
  /** Each batch the pipe handed out: its groups, when it was received and when its deletion unlocked them. */
  onBatch?: (batch: { rooms: number[]; receivedAt: number; releasedAt: number }) => void;
  /** `wake`: each change of a room's awake mark. */
  onRoom?: (mark: RoomMark) => void;
  /** `wake`: each room's iteration of an execution. */
  onRoomRun?: (run: RoomRun) => void;
}
