/**
 * One run of the model (tools/bench/awsModel.ts) set up: its settings over the defaults, its clock and seeded draws,
 * the quotas it meets (modelMeters.ts), Lambda's environments, its counters, its rooms, and the hops every part of
 * the model shares: a DynamoDB write with the SDK's retries, and a rule's invocation of its target. The parts (the
 * send path, the queue and pipe, the executions, the reader) each take this state; none imports another.
 */
import { type Latency, latencyMs } from '../local/awsProfile';
import { DEFAULT_EXTRA_MIX, ExtraTraffic } from './extraTraffic';
import { DEFAULT_MIX, FeatureTraffic, type TrafficContext } from './featureTraffic';
import { LAMBDA_QUOTAS, Lambdas } from './lambdaConcurrency';
import { ModelMeters, tableOf } from './modelMeters';
import type { Message, PostTally } from './modelPosting';
import type { Outcomes, Refusals, WakeCounts } from './modelResult';
import { DEFAULT_SETTINGS, type ModelRun, type ModelSettings, type RoomMark } from './modelSettings';
import { Clock, Histogram, seededRandom } from './simulation';

/** The SDK's retry of a throttled DynamoDB write: 3 attempts, full jitter over 100 ms × 2^n. */
const SDK_ATTEMPTS = 3;
const SDK_RETRY_BASE_MS = 100;
/** The features' draws, and the rest of the traffic's: streams of their own (the run's seed plus these). */
const FEATURE_SEED = 7919;
const EXTRA_SEED = 104_729;
/** Which member sends each message: a stream of its own, so the messages' draws are the same whoever sends. */
const SENDER_SEED = 15_485_863;
/** The retries of throttled Express starts (expressStarts.ts): a stream of their own, drawn only past the quota. */
const START_SEED = 32_452_843;

export interface Room {
  id: number;
  members: number;
  head: number;
  messages: Message[];
  /** The fan-out's cursor: the highest seq posted, and (`queue`) the seqs posted ahead of their events. */
  high: number;
  skip: Set<number>;
  /** `wake`: the room's awake mark (when a take first found the room asleep, or its last hand-off); none: asleep. */
  awakeSince?: number;
  /** `wake`: seqs the reader fenced (a gap marker under each). */
  fenced: Set<number>;
}

/** A queue message: `queue`, a room's event; `wake`, a RoomWake; each names its seq. */
export interface QueueMessage {
  room: number;
  seq: number;
}

/** One read of a room's log (roomLog.ts readRoom): the run to post, the cursor after it, whether to read again. */
export interface Read {
  run: Message[];
  high: number;
  more: boolean;
}

/** A run's state, shared by the model's parts. */
export interface ModelState {
  run: ModelRun;
  s: ModelSettings;
  L: ModelRun['profile']['latency'];
  random: () => number;
  /** The draw of each message's sender and connection (modelSendPath.ts). */
  senderRandom: () => number;
  draw: (latency: Latency) => number;
  /** A Step Functions state transition's latency. */
  transition: () => number;
  clock: Clock;
  /** The measured seconds: from the warm-up's end to the sending's end; the run ends after the drain. */
  measureFrom: number;
  fromSecond: number;
  sendEnd: number;
  end: number;
  /** The Maps' concurrency and the pipe's batch, each within its AWS quota. */
  roomsAtOnce: number;
  keysAtOnce: number;
  chunksAtOnce: number;
  batchMax: number;
  meters: ModelMeters;
  lambdas: Lambdas;
  refusals: Refusals;
  outcomes: Outcomes;
  wakeCounts: WakeCounts;
  tally: PostTally;
  executionMs: Histogram;
  /** Messages stored and published in the measured seconds, receipts posted twice, executions started. */
  counts: { sent: number; duplicated: number; executions: number };
  /** The counts when the warm-up ended. */
  warm?: { refusals: Refusals; outcomes: Outcomes; wakeCounts: WakeCounts };
  rooms: Room[];
  features?: FeatureTraffic;
  /** The rest of the traffic (extraTraffic.ts): with the features, or none. */
  extra?: ExtraTraffic;
  /** A DynamoDB write on one key, with the SDK's retries: the time it succeeded, or undefined when refused. */
  write(key: string, at: number, units: number): number | undefined;
  roomKey(room: Room): string;
  /** A rule's target invoked for an event accepted at `accepted`, within the Region's rule invocations. */
  ruleTarget(accepted: number, then: () => void): void;
  /** Reads a message for the fan-out (first read counts for the backlog) and counts a second posting as a copy. */
  readFor(room: Room, seq: number): Message;
  mark(room: Room, kind: RoomMark['kind']): void;
}

/** Sets up one run: nothing is scheduled but the warm-up's end. */
export function setUpModel(run: ModelRun): ModelState {
  const { design, scenario, profile } = run;
  const s: ModelSettings = { ...DEFAULT_SETTINGS, ...run.settings };
  const q = profile.quotas;
  const L = profile.latency;
  const random = seededRandom(run.seed);
  const featureRandom = seededRandom(run.seed + FEATURE_SEED);
  const draw = (latency: Latency) => latencyMs(latency, random);
  const clock = new Clock();
  // The warm-up: the same load before the measured seconds, its messages, refusals and quota use left out.
  const measureFrom = (run.warmupSeconds ?? 0) * 1000;
  const sendEnd = measureFrom + scenario.seconds * 1000;
  // The inline Map's concurrency quota caps every Map's own MaxConcurrency.
  const mapCap = q.stepFunctionsInlineMapConcurrency.value;

  const meters = new ModelMeters(q, s, run.newTables, seededRandom(run.seed + START_SEED));
  const { routes, apiGateway, putEvents, ruleInvocations, queueCalls, postBudget } = meters;
  const tableQuota = (table: string) => meters.tableQuota(table);
  const keyQuota = (key: string) => meters.keyQuota(key);
  const groupQuota = (room: number) => meters.groupQuota(room);

  const st: ModelState = {
    run,
    s,
    L,
    random,
    senderRandom: seededRandom(run.seed + SENDER_SEED),
    draw,
    transition: () => draw(L.stepFunctionsTransition),
    clock,
    measureFrom,
    fromSecond: measureFrom / 1000,
    sendEnd,
    end: sendEnd + (run.drainSeconds ?? 60) * 1000,
    roomsAtOnce: Math.min(s.roomsAtOnce, mapCap),
    keysAtOnce: Math.min(s.roomKeys, mapCap),
    chunksAtOnce: Math.min(s.chunksAtOnce, mapCap),
    batchMax: Math.min(s.pipeBatch, q.sqsFifoBatch.value),
    meters,
    lambdas: new Lambdas(
      { ...LAMBDA_QUOTAS, ...run.lambda },
      s.lambdaInit ?? {},
      s.reservedConcurrency ?? {},
      draw,
      () => clock.now,
    ),
    refusals: {
      routeSends: 0,
      personSends: 0,
      connectionSends: 0,
      apiGatewaySends: 0,
      lambdaSends: 0,
      apiGatewayPosts: 0,
      dynamodbKey: 0,
      dynamodbTable: 0,
      putEvents: 0,
      sendMessage: 0,
    },
    outcomes: {
      busySends: 0,
      eventRetries: 0,
      deadLettered: 0,
      reposts: 0,
      resyncNotes: 0,
      invocationsFailed: 0,
      coldStarts: 0,
    },
    wakeCounts: {
      byTakes: 0,
      handOffs: 0,
      sleeps: 0,
      sleepsBeaten: 0,
      fenced: 0,
      readAgain: 0,
      polls: 0,
    },
    tally: { posts: 0, postsInWindow: 0, delivered: 0, latency: new Histogram() },
    executionMs: new Histogram(),
    counts: { sent: 0, duplicated: 0, executions: 0 },
    rooms: Array.from({ length: scenario.rooms }, (_, id) => ({
      id,
      members: scenario.members,
      head: 0,
      messages: [],
      high: 0,
      skip: new Set(),
      fenced: new Set(),
    })),
    write: (key, at, units) => {
      let t = at;
      for (let attempt = 0; attempt < SDK_ATTEMPTS; attempt++) {
        t += draw(L.dynamodbItem);
        if (tableQuota(tableOf(key)).take(t, units)) {
          if (keyQuota(key).take(t, units)) return t;
          st.refusals.dynamodbKey++;
        } else st.refusals.dynamodbTable++;
        t += random() * SDK_RETRY_BASE_MS * 2 ** attempt;
      }
      return undefined;
    },
    roomKey: (room) => `rooms#${room.id}`,
    /**
     * After EventBridge's latency, within the Region's rule invocations a second; past them the invocation is delayed
     * (EventBridge quotas: "the invocations still happen, but they are delayed"), here to a random moment of the next
     * second.
     */
    ruleTarget: (accepted, then) => {
      const invoke = () => {
        if (ruleInvocations.take(clock.now)) then();
        else clock.at((Math.floor(clock.now / 1000) + 1 + random()) * 1000, invoke);
      };
      clock.at(accepted + draw(L.eventBridgeToTarget), invoke);
    },
    readFor: (room, seq) => {
      const m = room.messages[seq] as Message;
      m.readAt ??= clock.now;
      m.posted++;
      if (m.posted > 1 && m.sentAt >= measureFrom) st.counts.duplicated += room.members;
      return m;
    },
    mark: (room, kind) => run.onRoom?.({ room: room.id, kind, at: clock.now }),
  };
  if (measureFrom > 0)
    clock.at(measureFrom, () => {
      st.warm = {
        refusals: { ...st.refusals },
        outcomes: { ...st.outcomes },
        wakeCounts: { ...st.wakeCounts },
      };
    });

  if (run.traffic === false) return st;
  const traffic: TrafficContext = {
    clock,
    // Their own draws: the messages' stream is the same with the features or without.
    random: featureRandom,
    draw: (latency) => latencyMs(latency, featureRandom),
    latency: L,
    routes,
    apiGateway,
    postBudget,
    putEvents,
    ruleInvocations,
    expressStarts: meters.expressStarts,
    ruleTarget: st.ruleTarget,
    groupCall: (room, at) => {
      const [quota, counted] =
        design === 'queue' ? [queueCalls, groupQuota(room)] : [groupQuota(room), queueCalls];
      counted.count(at);
      return quota.take(at);
    },
    write: st.write,
    tableWrite: (table, at, units) => {
      if (tableQuota(table).take(at, units)) return true;
      st.refusals.dynamodbTable++;
      return false;
    },
    measureFrom,
  };
  const features = new FeatureTraffic(traffic, { ...DEFAULT_MIX, ...run.traffic });
  st.features = features;
  const extraRandom = seededRandom(run.seed + EXTRA_SEED);
  st.extra = new ExtraTraffic(
    {
      traffic,
      features,
      random: extraRandom,
      draw: (latency) => latencyMs(latency, extraRandom),
      // A read is not retried here: its refusal is counted on its quota.
      read: (key, at, units) =>
        meters.readTableQuota(tableOf(key)).take(at, units) && meters.readKeyQuota(key).take(at, units),
      tableRead: (table, at, units) => meters.readTableQuota(table).take(at, units),
      ssm: meters.ssm,
      lambdas: st.lambdas,
      settings: s,
      rate: scenario.rate,
      until: sendEnd,
    },
    { ...DEFAULT_EXTRA_MIX, ...run.traffic },
  );
  return st;
}
