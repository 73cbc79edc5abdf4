/**
 * What presence at scale costs the rest of the stack (tools/bench/presence.ts's loads, `--model presence`):
 * - the room's messages during a join burst: a message stream sent beside the burst into the same queue group, each
 *   cycle reading the room's log and its presence board at its start and posting every member one `batch` frame
 *   carrying the cycle's messages (one more per FRAME_LIMIT_BYTES of them) and one for the board, through the
 *   account's posting budget (FanoutPostsPerSecond): posts grow with members × cycles, not members × messages; each
 *   message's send to receipt, and the queue messages dead-lettered: a batch is received again each VisibilityTimeout
 *   its execution outlasts, and moves to the dead-letter queue past maxReceiveCount receives (template.yaml
 *   FanoutQueue, read here);
 * - a reconnect storm's departures: each `$disconnect` of a connection that followed a room publishes `Departed`, and
 *   rule LeaveRooms starts the departure machine for each, so N connections dropped at once are N starts against
 *   Express's StartExecution bucket, retried by the rule's RetryPolicy (expressStarts.ts) or dead-lettered.
 * Deterministic: the p50 latencies of the profile, and a seeded draw for the rule's retry delays.
 */
import { join, resolve } from 'node:path';
import { readTemplateFile } from '../infra/template';
import type { AwsProfile } from '../local/awsProfile';
import { ExpressStarts, type RuleMachine, type StartRetry, type StartSummary } from './expressStarts';
import { DEFAULT_SETTINGS } from './modelSettings';
import { seededRandom } from './simulation';

/** One room's presence load (presence.ts joinBurst, reconnectStorm). */
export interface PresenceLoad {
  name: string;
  /** Members present before the load. */
  members: number;
  /** Changes, in order, each at its time (s): a join adds a member, a leave takes one. */
  changes: { at: number; event: 'join' | 'leave' }[];
}

/** FanoutQueue's redrive, as template.yaml ships it. */
export interface QueueRedrive {
  visibilitySeconds: number;
  maxReceiveCount: number;
}

export function fanoutQueueRedrive(
  templatePath = join(resolve(__dirname, '..', '..'), 'template.yaml'),
): QueueRedrive {
  const raw = readTemplateFile(templatePath).raw as {
    Resources: Record<string, { Properties?: Record<string, unknown> }>;
  };
  const queue = raw.Resources.FanoutQueue?.Properties ?? {};
  const redrive = queue.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
  const visibilitySeconds = Number(queue.VisibilityTimeout);
  const maxReceiveCount = Number(redrive?.maxReceiveCount);
  if (!(visibilitySeconds > 0 && maxReceiveCount > 0))
    throw new Error(`${templatePath}: FanoutQueue has no VisibilityTimeout or RedrivePolicy.maxReceiveCount`);
  return { visibilitySeconds, maxReceiveCount };
}

export interface BurstMessages {
  /** Messages sent a second during the load, and how many in all. */
  rate: number;
  messages: number;
  /** Send to receipt (ms), over every message. */
  p50Ms: number;
  p99Ms: number;
  /** Queue messages (the messages' wakes) whose batch was received past maxReceiveCount. */
  deadLettered: number;
  /** Posts, presence frames included, and the longest execution (s). */
  posts: number;
  longestSeconds: number;
}

/** The nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

/**
 * How a cycle tells the room's messages (functions/deliver/roomLog.ts, coalescing.ts; modelSettings.ts's defaults):
 * a cycle reads at most `cycleItems` events after the cursor and posts each member one `batch` frame per
 * `frameBytes` of them (`messageBytes` a message), plus one frame for the presence board when it changed; an
 * execution reads the room cycle after cycle for `turnMs`, then hands the room on through a RoomWake.
 */
export interface CycleShape {
  cycleItems: number;
  frameBytes: number;
  messageBytes: number;
  turnMs: number;
}

const SHIPPED_CYCLE: CycleShape = {
  cycleItems: DEFAULT_SETTINGS.cycleItems,
  frameBytes: DEFAULT_SETTINGS.frameBytes,
  messageBytes: DEFAULT_SETTINGS.messageBytes,
  turnMs: DEFAULT_SETTINGS.turnMs,
};

/** The frames a member gets in a cycle that reads `messages` messages, the board aside. */
export const messageFramesOf = (messages: number, cycle: CycleShape) =>
  Math.ceil(messages / Math.max(1, Math.floor(cycle.frameBytes / cycle.messageBytes)));

/**
 * `load`'s changes with `rate` messages a second sent over the load's span (from 0 to its last change, or
 * `opts.span`), through one room's queue group, cycle by cycle. An execution starts once a wake (a message's, or the
 * presence board's one record) has reached the group and the previous execution has ended; it takes the board whole
 * (Prepare: one frame for every change written by its start) and reads the room cycle after cycle while messages are
 * waiting, for its turn; a room still busy then is handed on, its RoomWake going the way to the group again. A cycle
 * takes at most `cycleItems` messages written by its start and posts every member present its frames, lasting its
 * posts at `postsPerSecond` (at least a frame's p50 for a room that size) plus Deliver's invoke and its item read. A
 * message is received when its cycle ends.
 */
export function messagesBesideLoad(
  load: PresenceLoad,
  rate: number,
  profile: AwsProfile,
  opts: { postsPerSecond: number; redrive: QueueRedrive; span?: number; cycle?: CycleShape },
): BurstMessages {
  const l = profile.latency;
  const cycle = opts.cycle ?? SHIPPED_CYCLE;
  const toGroup = (l.eventBridgePutEvents.p50 + l.eventBridgeToTarget.p50 + l.pipesSqsPoll.p50) / 1000;
  const span = opts.span ?? load.changes[load.changes.length - 1]?.at ?? 0;
  const sent = Array.from({ length: Math.ceil(span * rate) }, (_, i) => i / rate);
  const changes = load.changes;
  let members = load.members;
  let [nextChange, nextMessage, free, posts, longest, deadLettered, turnFrom] = [0, 0, 0, 0, 0, 0, 0];
  /** When the board was opened by a change not yet told (Infinity: the board is empty). */
  let boardSince = Infinity;
  const latencies: number[] = [];
  while (nextChange < changes.length || nextMessage < sent.length || boardSince < Infinity) {
    const waiting = free > 0 && (sent[nextMessage] ?? Infinity) <= free;
    const readsOn = waiting && free - turnFrom < cycle.turnMs / 1000;
    const firstAt = Math.min(changes[nextChange]?.at ?? Infinity, sent[nextMessage] ?? Infinity, boardSince);
    const start = readsOn ? free : waiting ? free + toGroup : Math.max(free, firstAt + toGroup);
    if (!readsOn) turnFrom = start;
    for (; nextChange < changes.length && (changes[nextChange]?.at ?? 0) <= start; nextChange++) {
      members += changes[nextChange]?.event === 'join' ? 1 : -1;
      boardSince = Math.min(boardSince, changes[nextChange]?.at ?? 0);
    }
    // Prepare takes the board at an execution's start; a later cycle of the same turn leaves it to the next one.
    const tellsBoard = !readsOn && boardSince <= start;
    if (tellsBoard) boardSince = Infinity;
    const taken: number[] = [];
    for (
      ;
      nextMessage < sent.length && (sent[nextMessage] ?? 0) <= start && taken.length < cycle.cycleItems;
    )
      taken.push(sent[nextMessage++] ?? 0);
    const cyclePosts = members * (messageFramesOf(taken.length, cycle) + (tellsBoard ? 1 : 0));
    const seconds =
      Math.max(cyclePosts / opts.postsPerSecond, (55 + 0.082 * members) / 1000) +
      (l.lambdaInvoke.p50 + l.dynamodbItem.p50) / 1000;
    const end = start + seconds;
    // The batch is received again each visibility timeout the execution outlasts.
    const receives = Math.ceil((end - turnFrom) / opts.redrive.visibilitySeconds);
    if (receives > opts.redrive.maxReceiveCount) deadLettered += taken.length;
    else for (const at of taken) latencies.push((end - at) * 1000);
    posts += cyclePosts;
    longest = Math.max(longest, end - turnFrom);
    free = end;
  }
  latencies.sort((a, b) => a - b);
  return {
    rate,
    messages: sent.length,
    p50Ms: Math.round(percentile(latencies, 50)),
    p99Ms: Math.round(percentile(latencies, 99)),
    deadLettered,
    posts,
    longestSeconds: Math.round(longest * 10) / 10,
  };
}

/** A storm's departures: `connections` `Departed` events at 0, each a start of the departure machine. */
export function stormDepartures(
  connections: number,
  opts: { startsPerSecond: number; retries: Record<RuleMachine, StartRetry>; seed?: number },
): StartSummary & { starts: number } {
  const starts = new ExpressStarts(opts.startsPerSecond, seededRandom(opts.seed ?? 1), opts.retries);
  let started = 0;
  for (let i = 0; i < connections; i++) if (starts.start('departure', 0) !== undefined) started++;
  // Every retry is asked in second 0, so the summary's window is that second; the starts are counted apart.
  return { ...starts.summary(1, 0), starts: started };
}

/**
 * The presence lines on scale: the join burst's messages at `rates` beside the burst and alone (the same stream with
 * no joins: what the burst adds), and each storm's departure starts. Limits read from template.yaml (stackLimits.ts:
 * the posting budget's default, LeaveRooms' RetryPolicy; FanoutQueue's redrive) and the profile's Express bucket.
 */
export function presenceScaleLines(
  profile: AwsProfile,
  burst: PresenceLoad,
  storms: number[],
  limits: { postsPerSecond: number; retries: Record<RuleMachine, StartRetry> },
  rates = [1, 5, 10],
): { messages: BurstMessages[]; departures: (StartSummary & { starts: number })[]; text: string } {
  const redrive = fanoutQueueRedrive();
  const opts = { postsPerSecond: limits.postsPerSecond, redrive };
  const span = burst.changes[burst.changes.length - 1]?.at ?? 0;
  const alone: PresenceLoad = { ...burst, members: burst.members + burst.changes.length, changes: [] };
  const messages = rates.map((rate) => messagesBesideLoad(burst, rate, profile, opts));
  const startsPerSecond = profile.quotas.stepFunctionsExpressStartsPerSecond.value;
  const departures = storms.map((n) => stormDepartures(n, { startsPerSecond, retries: limits.retries }));
  const budget = limits.postsPerSecond.toLocaleString('en-US');
  const messageLine = (m: BurstMessages) => {
    const quiet = messagesBesideLoad(alone, m.rate, profile, { ...opts, span });
    return (
      `${burst.name}, ${m.rate} msg/s beside it (${m.messages} messages): p50 ${m.p50Ms} / p99 ${m.p99Ms} ms, ` +
      `${m.deadLettered} dead-lettered, ${Math.round(m.posts / span).toLocaleString('en-US')} posts/s, longest execution ${m.longestSeconds} s (the same stream in a full room ` +
      `with no burst, ${Math.round(quiet.posts / span).toLocaleString('en-US')} posts/s: p50 ${quiet.p50Ms} / ` +
      `p99 ${quiet.p99Ms} ms)`
    );
  };
  const departureLine = (d: StartSummary & { starts: number }, i: number) =>
    `reconnect storm of ${(storms[i] ?? 0).toLocaleString('en-US')} dropped at once, each following a room: ${d.starts} departure starts ` +
    `of ${storms[i]}, ${d.throttled} throttled, ${d.retries} retries, ${d.deadLettered} dead-lettered, ` +
    `the last started after ${d.maxDelayMs} ms`;
  return {
    messages,
    departures,
    text:
      `${messages.map(messageLine).join('\n')}\n${departures.map(departureLine).join('\n')}\n` +
      `(messages through the posting budget's ${budget} posts/s, each member a frame a cycle for its messages and ` +
      `one an execution for the board; FanoutQueue ` +
      `visibility ${redrive.visibilitySeconds} s × ${redrive.maxReceiveCount} receives; departures against ` +
      `${startsPerSecond.toLocaleString('en-US')} Express starts/s, LeaveRooms retrying ` +
      `${limits.retries.departure.attempts} times within ${limits.retries.departure.maxAgeMs / 1000} s)`,
  };
}
