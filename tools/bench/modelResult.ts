/**
 * What a run of the model (tools/bench/awsModel.ts) returns: what a dashboard would show, with each quota's
 * refusals and the one that binds first.
 */
import type { Feature, FeatureCount } from './featureTraffic';
import type { MeanRates } from './modelMeters';
import type { Design } from './modelSettings';
import type { QuotaUse } from './quotas';

export type { Design };

/** Quota refusals by kind, and what became of them. */
export interface Refusals {
  /** `sendmessage` frames the route's throttle refused (429): the sender's to retry, not sent. */
  routeSends: number;
  /** Sends refused `RATE_LIMITED` by the sender's PersonSendRateLimit, and by its connection's SendRateLimit alone. */
  personSends: number;
  connectionSends: number;
  /** `sendmessage` frames the account's requests a second refused (429): the sender's to retry, not sent. */
  apiGatewaySends: number;
  /** `sendmessage` invocations Lambda throttled (account or reserved concurrency, scaling rate): the sender's error. */
  lambdaSends: number;
  /** Posts API Gateway refused: each a member's frame reposted after 2 s, then a resync note. */
  apiGatewayPosts: number;
  /** DynamoDB writes refused on one key (the room's item, its messages partition, its cursor), SDK retries included. */
  dynamodbKey: number;
  /** DynamoDB writes refused by their table's write units a second (SDK retries included). */
  dynamodbTable: number;
  /** PutEvents refused: the message is stored, its event never published. */
  putEvents: number;
  /** SendMessage refused: EventBridge retries the event later. */
  sendMessage: number;
}

export interface Outcomes {
  /** Sends answered BUSY: their seq or store refused past the SDK's retries. */
  busySends: number;
  /** EventBridge retries of a refused SendMessage, and events past the retries: ChatEventsDeadLetterQueue. */
  eventRetries: number;
  deadLettered: number;
  /** Chunks reposted after a refusal, and members left a resync note for a frame (their history fills it). */
  reposts: number;
  resyncNotes: number;
  /** Deliver invocations throttled past Step Functions' retries (the execution would fail). */
  invocationsFailed: number;
  /** Lambda cold starts (an environment's init before its handler). */
  coldStarts: number;
}

/** `wake`: the awake mark's traffic and the reader's work. */
export interface WakeCounts {
  /** RoomWakes published by sends (a take that found the room asleep or its mark stale, or a waker never stored). */
  byTakes: number;
  /** Hand-offs: a room still busy at the end of its turn, its mark renewed and a RoomWake published. */
  handOffs: number;
  /** The reader's sleeps (the conditional write that clears the mark), and those a take beat. */
  sleeps: number;
  sleepsBeaten: number;
  /** Seqs fenced: missing HOLE_PASS_MS, a gap marker put under them. */
  fenced: number;
  /** ReadRoom cycles (a Deliver `room` invocation each), beyond each room's first read in Prepare. */
  readAgain: number;
  /** The reader's polls while a seq was being stored. */
  polls: number;
}

export interface ModelResult {
  design: Design;
  scenario: string;
  seed: number;
  profile: string;
  rooms: number;
  members: number;
  /** Messages a second offered (rooms × rate) and stored and published (acked). */
  offeredPerSecond: number;
  sentPerSecond: number;
  sent: number;
  /** Member receipts, and those owed (sent × members) that never came. */
  delivered: number;
  missing: number;
  duplicated: number;
  /** From the send to a member's receipt, over every receipt. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Posts a second (one per member per frame), over the sending seconds. */
  postsPerSecond: number;
  /** Posts over the whole run, the drain's included. */
  posts: number;
  /** SendMessage calls a second (refused ones included) the queue took, and its busiest group; mean and busiest second. */
  queueSendMessagePerSecond: number;
  queueSendMessagePeak: number;
  groupSendMessagePerSecond: number;
  groupSendMessagePeak: number;
  executions: number;
  executionP50Ms: number;
  executionP99Ms: number;
  /** `wake`: zero for `queue`. */
  wakes: WakeCounts;
  refusals: Refusals;
  /** Requests each route's throttle refused (429), by route key: every route the run called. */
  routeRefusals: Record<string, number>;
  /** Each feature's traffic beside the messages (featureTraffic.ts), over the measured seconds; none: messages only. */
  features?: Record<Feature, FeatureCount>;
  outcomes: Outcomes;
  /** Mean rates a second of the account's requests, EventBridge's calls and each table's write units. */
  rates: MeanRates;
  /** Each function's most executions at once over the measured seconds, by logical id (lambdaConcurrency.ts). */
  lambdaPeaks: Record<string, number>;
  /** Each quota's refusals and busiest second, and the one that binds first (bindingQuota). */
  quotas: QuotaUse[];
  bindsFirst?: QuotaUse;
  /** Messages stored but not yet read by the fan-out when the sending ends, and never read when the drain ends. */
  backlogAtSendEnd: number;
  backlogAtEnd: number;
  /** Simulated seconds, and the events the simulation ran. */
  simulatedSeconds: number;
  events: number;
}
