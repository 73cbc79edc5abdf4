/**
 * A model of the fan-out on AWS: a discrete-event simulation, event by event in simulated time, of every message from
 * its `sendmessage` frame to each member's receipt, for loads the local cloud on one machine cannot offer. Each hop's
 * latency is a draw from the AWS profile (tools/local/awsProfile.ts, `latencyMs`: log-normal through its p50 and p99),
 * each quota of the profile is enforced where AWS enforces it, and a seeded generator makes a run reproducible.
 *
 * Two designs of the fan-out, selectable, so that they are compared under one profile:
 * - `wake`, the fan-out as built (docs/DECISIONS.md, "The fan-out at AWS's scale"): the take of a seq marks the room
 *   awake, and the take that finds it asleep (or awake for more than AWAKE_STALE_MS) publishes a RoomWake beside its
 *   message; the queue (high-throughput mode: calls per second per group) carries those wakes. An execution reads the
 *   room's log after its cursor (functions/deliver/roomLog.ts: ≤ CYCLE_EVENTS, ≤ CYCLE_BYTES a cycle), posts the
 *   stored run, never past a missing seq (polled every POLL_MS, fenced once missing HOLE_PASS_MS), saves the cursor
 *   and reads again while it had more; caught up, it puts the room to sleep (a write conditional on the room's seq);
 *   after ROOM_TURN_MS of the execution it hands the room on (the mark renewed, a RoomWake published). A chunk's
 *   refused members go to the repost machine through the bus (functions/deliver/post.ts): the execution does not wait.
 * - `queue`: every room event is one message of the FIFO queue (default mode: the queue's calls per second are shared
 *   by every group); the pipe hands batches of ≤ 10, one batch in flight per group; Prepare reads the room's cursor
 *   and, for a room with two or more messages in its batch, the stored messages after the cursor's `high` (≤ 40,
 *   ≤ 16 KB), posted ahead and skipped when their own events come; a chunk's refused members are reposted by the
 *   execution itself. It is the design the wake replaced, kept as the comparison.
 *
 * What one message meets, in order (each a latency draw; the quota that may refuse it in brackets):
 *   send: API Gateway's request [sendmessage's route throttle, one token bucket for every client (routeThrottles.ts);
 *   account requests/s] →
 *   the messages function's invoke [Lambda concurrency and scaling; a cold start's init] → UpdateItem seq on the
 *   room's item, which marks the room awake [WCU/s per key and per table] → PutItem of the clientMsgId claim [per
 *   table] → PutItem of the message in the room's partition [per key and per table] → PutEvents [requests/s in the
 *   Region] → the push rule's invocation and (`queue`: every event; `wake`: a waker's RoomWake) EventBridge to the
 *   rule's target [rule invocations/s in the Region: delayed past it] → SendMessage [queue or group calls/s;
 *   refused: EventBridge retries, then the dead-letter queue] → the pipe's poll (one batch in flight per group) → an
 *   execution: its start (a state transition), Prepare's invoke and each room's reads, per room key the index Query,
 *   per chunk Deliver's invoke [Lambda; throttled: Step Functions' retries], its resync-notes Query and budget
 *   UpdateItem, the posts [account requests/s; refused: reposted after 2 s, then a resync note], SaveCursor [per key],
 *   and the states between; `wake`: per cycle after the first, ReadRoom's invoke and reads; the sleep's conditional
 *   write and each hand-off's write [the room's item, per key].
 *
 * Approximations, each on the side of fewer surprises than AWS can give: no failures but quota refusals; a quota is
 * counted per whole second of simulated time; a read sees the log as it is when its calls return; an execution's
 * posts are counted against the account's second when its reads are done (executions running at once may count a
 * later second's posts before an earlier one's); a write throttled past the SDK's retries in the reader (a fence, a
 * sleep) is read again rather than failing the room; reads' capacity units are not counted; typing, reads, presence,
 * the word index and the push rule run beside the messages on the same meters (featureTraffic.ts, which names what
 * it leaves out), history, search's queries, broadcasts and push posts are left out; every member of a room is
 * connected, none is gone. One on the other side: a refused PutEvents is not retried (the SDK's
 * retries would publish some of them), so past a Region's PutEvents quota the receipts missing are an upper bound.
 */
import { wakes } from '#messages/appending';
import { type Latency, latencyMs } from '../local/awsProfile';
import { DEFAULT_MIX, FeatureTraffic } from './featureTraffic';
import { LAMBDA_QUOTAS, Lambdas } from './lambdaConcurrency';
import { ModelMeters } from './modelMeters';
import { type Message, Posting, type PostTally } from './modelPosting';
import type { ModelResult, Outcomes, Refusals, WakeCounts } from './modelResult';
import { DEFAULT_SETTINGS, type ModelRun, type ModelSettings, type RoomMark } from './modelSettings';
import { bindingQuota } from './quotas';
import { Clock, entry, Histogram, seededRandom } from './simulation';

export type { Design, ModelResult, Outcomes, Refusals, WakeCounts } from './modelResult';
export {
  DEFAULT_SETTINGS,
  DESIGNS,
  type ModelRun,
  type ModelSettings,
  type RoomMark,
  type RoomRun,
  type Scenario,
} from './modelSettings';
export { seededRandom };

/**
 * EventBridge's retry of a refused target call: exponential back-off with jitter (EventBridge user guide, "How
 * EventBridge retries delivering events"); AWS publishes no base, so the model takes a delay drawn in
 * [0, 1 s × 2^attempt).
 */
const EVENT_RETRY_BASE_MS = 1000;
/** The SDK's retry of a throttled DynamoDB write: 3 attempts, full jitter over 100 ms × 2^n. */
const SDK_ATTEMPTS = 3;
const SDK_RETRY_BASE_MS = 100;
/** The features' draws: a stream of their own (the run's seed plus this). */
const FEATURE_SEED = 7919;
/** Items by key prefix, and their table (the model's keys: awsModel.ts and featureTraffic.ts). */
const TABLE_BY_PREFIX: readonly (readonly [string, string])[] = [
  ['rooms#', 'RoomsTable'],
  ['messages#', 'MessagesTable'],
  ['words#', 'WordsTable'],
  ['membership#', 'MembershipsTable'],
  ['connection#', 'ConnectionsTable'],
];

// ------------------------------------------------------------------------------------------------ the stack

interface Room {
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
interface QueueMessage {
  room: number;
  seq: number;
}

interface Group {
  messages: QueueMessage[];
  locked: boolean;
  pollPending: boolean;
}

/** One read of a room's log (roomLog.ts readRoom): the run to post, the cursor after it, whether to read again. */
interface Read {
  run: Message[];
  high: number;
  more: boolean;
}

/** Runs one design under one load and returns what a dashboard would show. */
export function runModel(run: ModelRun): ModelResult {
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
  const fromSecond = measureFrom / 1000;
  const sendEnd = measureFrom + scenario.seconds * 1000;
  const end = sendEnd + (run.drainSeconds ?? 60) * 1000;
  // The inline Map's concurrency quota caps every Map's own MaxConcurrency.
  const mapCap = q.stepFunctionsInlineMapConcurrency.value;
  const roomsAtOnce = Math.min(s.roomsAtOnce, mapCap);
  const keysAtOnce = Math.min(s.roomKeys, mapCap);
  const chunksAtOnce = Math.min(s.chunksAtOnce, mapCap);
  const batchMax = Math.min(s.pipeBatch, q.sqsFifoBatch.value);

  const meters = new ModelMeters(q, s, run.newTables);
  const {
    routes,
    apiGateway,
    putEvents,
    ruleInvocations,
    queueCalls,
    pipeExecutions,
    postBudget,
    groupCalls,
  } = meters;
  const tableQuota = (table: string) => meters.tableQuota(table);
  const keyQuota = (key: string) => meters.keyQuota(key);
  const groupQuota = (room: number) => meters.groupQuota(room);

  const refusals: Refusals = {
    routeSends: 0,
    apiGatewaySends: 0,
    lambdaSends: 0,
    apiGatewayPosts: 0,
    dynamodbKey: 0,
    dynamodbTable: 0,
    putEvents: 0,
    sendMessage: 0,
  };
  const outcomes: Outcomes = {
    busySends: 0,
    eventRetries: 0,
    deadLettered: 0,
    reposts: 0,
    resyncNotes: 0,
    invocationsFailed: 0,
    coldStarts: 0,
  };
  const lambdas = new Lambdas(
    { ...LAMBDA_QUOTAS, ...run.lambda },
    s.lambdaInit ?? {},
    s.reservedConcurrency ?? {},
    draw,
    () => clock.now,
  );
  const wakeCounts: WakeCounts = {
    byTakes: 0,
    handOffs: 0,
    sleeps: 0,
    sleepsBeaten: 0,
    fenced: 0,
    readAgain: 0,
    polls: 0,
  };
  const tally: PostTally = { posts: 0, postsInWindow: 0, delivered: 0, latency: new Histogram() };
  /** The counts when the warm-up ended. */
  let warm: { refusals: Refusals; outcomes: Outcomes; wakeCounts: WakeCounts } | undefined;
  if (measureFrom > 0)
    clock.at(measureFrom, () => {
      warm = { refusals: { ...refusals }, outcomes: { ...outcomes }, wakeCounts: { ...wakeCounts } };
    });
  const executionMs = new Histogram();
  let sent = 0;
  let duplicated = 0;
  let executions = 0;

  const rooms: Room[] = Array.from({ length: scenario.rooms }, (_, id) => ({
    id,
    members: scenario.members,
    head: 0,
    messages: [],
    high: 0,
    skip: new Set(),
    fenced: new Set(),
  }));
  const groups = new Map<number, Group>();
  /** Groups with messages and no batch in flight, in the order they became so (the pipe's pollers fill from them). */
  const ready = new Set<number>();

  /** A DynamoDB write on one key, with the SDK's retries: the time it succeeded, or undefined when refused. */
  const write = (key: string, at: number, units: number): number | undefined => {
    let t = at;
    for (let attempt = 0; attempt < SDK_ATTEMPTS; attempt++) {
      t += draw(L.dynamodbItem);
      if (tableQuota(tableOf(key)).take(t, units)) {
        if (keyQuota(key).take(t, units)) return t;
        refusals.dynamodbKey++;
      } else refusals.dynamodbTable++;
      t += random() * SDK_RETRY_BASE_MS * 2 ** attempt;
    }
    return undefined;
  };
  const roomKey = (room: Room) => `rooms#${room.id}`;
  /**
   * The table a key's item lives in: the room's item, its log, a word's entries, a member's read position, a
   * connection's typing marks; the Limits table holds the fan-out's cursor (functions/deliver/dynamoCursor.ts), the
   * presence boards and the posting budget.
   */
  const tableOf = (key: string) =>
    TABLE_BY_PREFIX.find(([prefix]) => key.startsWith(prefix))?.[1] ?? 'LimitsTable';
  const features =
    run.traffic === false
      ? undefined
      : new FeatureTraffic(
          {
            clock,
            // Their own draws: the messages' stream is the same with the features or without.
            random: featureRandom,
            draw: (latency) => latencyMs(latency, featureRandom),
            latency: L,
            routes,
            apiGateway,
            postBudget,
            putEvents,
            ruleTarget: (accepted, then) => ruleTarget(accepted, then),
            groupCall: (room, at) => {
              const [quota, counted] =
                design === 'queue' ? [queueCalls, groupQuota(room)] : [groupQuota(room), queueCalls];
              counted.count(at);
              return quota.take(at);
            },
            write,
            tableWrite: (table, at, units) => {
              if (tableQuota(table).take(at, units)) return true;
              refusals.dynamodbTable++;
              return false;
            },
            measureFrom,
          },
          { ...DEFAULT_MIX, ...run.traffic },
        );
  const mark = (room: Room, kind: RoomMark['kind']) => run.onRoom?.({ room: room.id, kind, at: clock.now });

  // ---------------------------------------------------------------- send path

  const send = (room: Room, at: number) => {
    features?.typed(room);
    if (!routes.take('sendmessage', at)) {
      refusals.routeSends++;
      return;
    }
    if (!apiGateway.take(at)) {
      refusals.apiGatewaySends++;
      return;
    }
    // The messages function: its environment (a cold start's init first), or a throttle the sender sees as an error.
    const invocation = lambdas.invoke('MessagesFunction', at);
    if (!invocation) {
      refusals.lambdaSends++;
      return;
    }
    // Its run is the take, the claim, the store and PutEvents, drawn below; its environment is held for their p50s.
    invocation.end(invocation.startsAt + 3 * L.dynamodbItem.p50 + L.eventBridgePutEvents.p50);
    takeSeq(room, at, invocation.startsAt + draw(L.lambdaInvoke), undefined);
  };

  /**
   * The take: UpdateItem `ADD seq :1` on the room's item, which (`wake`) marks the room awake unless it is. `owed`: an
   * earlier take of the same send woke the room and its wake is still owed (appending.ts Takes).
   */
  const takeSeq = (room: Room, sentAt: number, at: number, owed: number | undefined) => {
    const taken = write(roomKey(room), at, 1);
    if (taken === undefined) {
      outcomes.busySends++;
      if (owed !== undefined) clock.at(at, () => publishWake(room, owed, 'wake'));
      return;
    }
    clock.at(taken, () => take(room, sentAt, owed));
  };

  const take = (room: Room, sentAt: number, owed: number | undefined) => {
    const now = clock.now;
    const seq = ++room.head;
    let waker = false;
    if (design === 'wake') {
      waker = owed !== undefined || wakes(room.awakeSince, now);
      // `awake = if_not_exists(awake, :at)`: a stale mark is kept as it is, so every take after it wakes the room
      // until an execution renews or clears it.
      room.awakeSince ??= now;
    }
    const message: Message = { seq, sentAt, takenAt: now, posted: 0 };
    room.messages[seq] = message;
    // The clientMsgId's claim (its own key), then the message in the room's partition, only if its seq is free.
    const claimed = now + draw(L.dynamodbItem);
    // The claim is its own item (no hot key), in the sends table: only the table's write units can refuse it.
    if (!tableQuota('SendsTable').take(claimed, 1)) {
      refusals.dynamodbTable++;
      outcomes.busySends++;
      if (waker) clock.at(claimed, () => publishWake(room, seq, 'wake'));
      return;
    }
    const stored = write(`messages#${room.id}`, claimed, Math.ceil(s.messageBytes / 1024));
    if (stored === undefined) {
      outcomes.busySends++;
      // A seq taken and never stored: the reader fences it. A waker's wake is published bare (wakeUnstored).
      if (waker) clock.at(claimed, () => publishWake(room, seq, 'wake'));
      return;
    }
    clock.at(stored, () => {
      if (room.fenced.has(seq)) {
        // The reader fenced the seq first: the put fails and the send stores under a new seq.
        takeSeq(room, sentAt, clock.now, waker ? seq : owed);
        return;
      }
      message.storedAt = clock.now;
      if (sentAt >= measureFrom) sent++;
      publish(room, message, waker);
    });
  };

  /** PutEvents: `queue`, the event to the queue; `wake`, the MessageSent (to no queue) and a waker's RoomWake. */
  const publish = (room: Room, message: Message, waker: boolean) => {
    const now = clock.now;
    if (!putEvents.take(now)) {
      // The message is stored and its event never published; a waker's room stays awake with no execution until a
      // take finds the mark stale.
      refusals.putEvents++;
      return;
    }
    const accepted = now + draw(L.eventBridgePutEvents);
    // The push rule matches every MessageSent: one invocation of its target each (the push itself is not modelled).
    if (features) features.pushed(accepted);
    else ruleTarget(accepted, () => {});
    if (design === 'wake' && !waker) return;
    if (design === 'wake') {
      wakeCounts.byTakes++;
      mark(room, 'wake');
    }
    ruleTarget(accepted, () => toQueue({ room: room.id, seq: message.seq }, accepted, 0));
  };

  /**
   * A rule's target invoked for an event accepted at `accepted`: after EventBridge's latency, within the Region's
   * rule invocations a second; past them the invocation is delayed (EventBridge quotas: "the invocations still
   * happen, but they are delayed"), here to a random moment of the next second.
   */
  const ruleTarget = (accepted: number, then: () => void) => {
    const invoke = () => {
      if (ruleInvocations.take(clock.now)) then();
      else clock.at((Math.floor(clock.now / 1000) + 1 + random()) * 1000, invoke);
    };
    clock.at(accepted + draw(L.eventBridgeToTarget), invoke);
  };

  /** A RoomWake alone on the bus (a waker never stored, a hand-off); `then` once PutEvents has answered. */
  const publishWake = (room: Room, seq: number, kind: 'wake' | 'handOff', then?: () => void) => {
    const now = clock.now;
    if (!putEvents.take(now)) {
      refusals.putEvents++;
      then?.();
      return;
    }
    if (kind === 'wake') wakeCounts.byTakes++;
    mark(room, kind);
    const accepted = now + draw(L.eventBridgePutEvents);
    ruleTarget(accepted, () => toQueue({ room: room.id, seq }, accepted, 0));
    if (then) clock.at(accepted, then);
  };

  /** The rule's SendMessage: the queue's calls (default mode) or the group's (high-throughput mode). */
  const toQueue = (m: QueueMessage, publishedAt: number, attempt: number) => {
    const now = clock.now;
    // Default mode: the queue's calls are the quota; high-throughput mode: the group's. The other is counted only.
    const [quota, counted] =
      design === 'queue' ? [queueCalls, groupQuota(m.room)] : [groupQuota(m.room), queueCalls];
    counted.count(now);
    if (quota.take(now)) {
      clock.at(now + draw(L.sqsCall), () => visible(m));
      return;
    }
    refusals.sendMessage++;
    const retryAt = now + random() * EVENT_RETRY_BASE_MS * 2 ** attempt;
    if (attempt >= s.eventRetries || retryAt - publishedAt > s.eventMaxAgeMs) {
      outcomes.deadLettered++;
      return;
    }
    outcomes.eventRetries++;
    clock.at(retryAt, () => toQueue(m, publishedAt, attempt + 1));
  };

  // ---------------------------------------------------------------- queue and pipe

  const groupOf = (room: number) =>
    entry(groups, room, (): Group => ({ messages: [], locked: false, pollPending: false }));

  const visible = (m: QueueMessage) => {
    const g = groupOf(m.room);
    g.messages.push(m);
    if (!g.locked) {
      ready.add(m.room);
      schedulePoll(m.room, g);
    }
  };

  const schedulePoll = (room: number, g: Group) => {
    if (g.pollPending) return;
    g.pollPending = true;
    clock.at(clock.now + draw(L.pipesSqsPoll), () => poll(room));
  };

  /** A poller's receive: this group's messages first, the batch filled from other ready groups; all locked. */
  const poll = (room: number) => {
    const g = groupOf(room);
    g.pollPending = false;
    if (g.locked || g.messages.length === 0) return;
    // The account's pipe executions at once: past them the pipe receives nothing until one ends.
    if (!pipeExecutions.enter(clock.now)) {
      schedulePoll(room, g);
      return;
    }
    const batch: QueueMessage[] = [];
    const locked: number[] = [];
    const takeFrom = (id: number) => {
      const group = groupOf(id);
      const n = Math.min(batchMax - batch.length, group.messages.length);
      batch.push(...group.messages.splice(0, n));
      group.locked = true;
      ready.delete(id);
      locked.push(id);
    };
    takeFrom(room);
    for (const id of ready) {
      if (batch.length >= batchMax) break;
      takeFrom(id);
    }
    execute(batch, locked);
  };

  /** The batch deleted after its execution: its groups unlock, and those with messages are polled again. */
  const release = (locked: number[]) => {
    for (const id of locked) {
      const g = groupOf(id);
      g.locked = false;
      if (g.messages.length > 0) {
        ready.add(id);
        schedulePoll(id, g);
      }
    }
  };

  // ---------------------------------------------------------------- posting

  const transition = () => draw(L.stepFunctionsTransition);

  /** Reads a message for the fan-out (first read counts for the backlog) and counts a second posting as a copy. */
  const readFor = (room: Room, seq: number) => {
    const m = room.messages[seq] as Message;
    m.readAt ??= clock.now;
    m.posted++;
    if (m.posted > 1 && m.sentAt >= measureFrom) duplicated += room.members;
    return m;
  };

  const posting = new Posting({
    design,
    s,
    draw,
    L,
    random,
    transition,
    keysAtOnce,
    chunksAtOnce,
    apiGateway,
    postBudget,
    putEvents,
    ruleInvocations,
    lambdas,
    refusals,
    outcomes,
    measureFrom,
    sendEnd,
    tally,
  });
  const postRoom = (room: Room, start: number, frames: Message[][]) => posting.postRoom(room, start, frames);
  const deliverRead = (at: number) => posting.deliverRead(at);
  const framesOf = (messages: Message[]) => posting.framesOf(messages);

  const saveCursor = (room: Room, at: number): number =>
    (write(`cursor#${room.id}`, at, 1) ?? at + draw(L.dynamodbItem)) + transition();

  // ---------------------------------------------------------------- execution

  const execute = (batch: QueueMessage[], locked: number[]) => {
    executions++;
    const started = clock.now;
    const released = () => {
      pipeExecutions.leave();
      release(locked);
      run.onBatch?.({ rooms: locked, receivedAt: started, releasedAt: clock.now });
    };
    const byRoom = new Map<number, QueueMessage[]>();
    for (const m of batch) byRoom.set(m.room, [...(byRoom.get(m.room) ?? []), m]);
    const roomIds = [...byRoom.keys()];
    let pending = roomIds.length;
    // The execution ends when its slowest room does; the pipe then deletes the batch, unlocking its groups.
    const roomDone = (at: number) => {
      pending--;
      if (pending > 0) return;
      clock.at(Math.max(at, clock.now) + transition(), () => {
        executionMs.add(clock.now - started);
        clock.at(clock.now + draw(L.sqsCall), released);
      });
    };
    const entered = started + transition();
    if (design === 'queue') {
      // Prepare: one invoke for the batch; per room the cursor's GetItem and, with two messages or more, the
      // read-ahead Query.
      let prepared = deliverRead(entered);
      const reads = roomIds.map((id) => {
        const n = (byRoom.get(id) as QueueMessage[]).length;
        return draw(L.dynamodbItem) + (n >= 2 ? draw(L.dynamodbQuery) : 0);
      });
      prepared += Math.max(...reads);
      clock.at(prepared, () => {
        const slots: number[] = Array(roomsAtOnce).fill(clock.now + transition());
        for (const id of roomIds) {
          const slot = slots.indexOf(Math.min(...slots));
          const done = queueRoom(
            rooms[id] as Room,
            byRoom.get(id) as QueueMessage[],
            (slots[slot] as number) + transition(),
          );
          slots[slot] = done;
          roomDone(done);
        }
      });
      return;
    }
    // Prepare: one invoke reads every room of the batch side by side (each within its turn from now) and returns when
    // the slowest read does; then Map Rooms runs each room's cycles on their own, past its concurrency a room starting
    // when another ends.
    clock.at(deliverRead(entered), () => {
      const turnEndsAt = clock.now + s.turnMs;
      const reads = new Map<number, Read>();
      for (const id of roomIds)
        readRoom(rooms[id] as Room, turnEndsAt, (read) => {
          reads.set(id, read);
          if (reads.size === roomIds.length) mapRooms(reads);
        });
    });
    const mapRooms = (reads: Map<number, Read>) => {
      const waiting = [...roomIds];
      const startRoom = (at: number) => {
        const id = waiting.shift();
        if (id === undefined) return;
        const room = rooms[id] as Room;
        let cycles = 1;
        clock.at(at + transition(), () =>
          cycle(
            room,
            reads.get(id) as Read,
            started,
            () => cycles++,
            (doneAt) => {
              run.onRoomRun?.({ room: id, startedAt: started, endedAt: doneAt, cycles });
              roomDone(doneAt);
              startRoom(doneAt);
            },
          ),
        );
      };
      const mapAt = clock.now + transition();
      for (let i = 0; i < roomsAtOnce; i++) startRoom(mapAt);
    };
  };

  /** `queue`: a room's events of the batch, those posted ahead dropped, the stored ones after `high` read ahead. */
  const queueRoom = (room: Room, events: QueueMessage[], start: number): number => {
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    const kept = seqs.filter((seq) => !room.skip.delete(seq));
    let high = Math.max(room.high, ...kept);
    const ahead: number[] = [];
    if (seqs.length >= 2) {
      let bytes = 0;
      for (let seq = high + 1; seq <= room.head && ahead.length < s.readAheadMessages; seq++) {
        const m = room.messages[seq];
        if (m?.storedAt === undefined) continue; // not stored (yet): its event, when it comes, is posted as ever
        bytes += s.messageBytes;
        if (bytes > s.readAheadBytes) break;
        ahead.push(seq);
        room.skip.add(seq);
        high = seq;
      }
    }
    room.high = high;
    const posted = [...kept, ...ahead].map((seq) => readFor(room, seq));
    if (posted.length === 0) return start + transition() + draw(L.dynamodbItem) + transition();
    const end = postRoom(room, start + transition(), framesOf(posted));
    features?.indexed(room, posted.length, end);
    return saveCursor(room, end + transition());
  };

  /**
   * `wake`: one room's iteration of Map Rooms from a read: RoomKeys' posts (none for an empty run), CursorToSave and
   * SaveCursor when the cursor moved, MoreNews, and while the read says more, ReadRoom (a Deliver `room` invocation,
   * within the turn from the execution's start) and the next cycle.
   */
  const cycle = (
    room: Room,
    read: Read,
    startedAt: number,
    readAgain: () => void,
    done: (at: number) => void,
  ) => {
    let t = clock.now;
    t = read.run.length > 0 ? postRoom(room, t, framesOf(read.run)) : t + transition();
    features?.indexed(room, read.run.length, t);
    t += transition();
    const moved = read.high !== room.high;
    if (moved) t = saveCursor(room, t);
    t += transition();
    clock.at(t, () => {
      if (moved) room.high = read.high;
      if (!read.more) {
        done(clock.now + transition());
        return;
      }
      wakeCounts.readAgain++;
      readAgain();
      clock.at(deliverRead(clock.now + transition()), () =>
        readRoom(room, startedAt + s.turnMs, (next) => cycle(room, next, startedAt, readAgain, done)),
      );
    });
  };

  /** Whether a seq is in the room's log: its message stored, or a gap marker. */
  const inLog = (room: Room, seq: number) =>
    room.messages[seq]?.storedAt !== undefined || room.fenced.has(seq);

  /**
   * `wake`: roomLog.ts readRoom. The cursor's GetItem, then passes of the log's Query and the room's seq side by side:
   * the stored run from the cursor, never past a missing seq (fenced once missing `holeMs`); caught up, the room put to
   * sleep (read on if a take beat the write); a seq being stored: post what came before it, or with nothing to post
   * poll every `pollMs`; past the turn, the room handed on.
   */
  const readRoom = (room: Room, turnEndsAt: number, done: (read: Read) => void) => {
    const missingSince = new Map<number, number>();
    const run: number[] = [];
    let high = room.high;
    let bytes = 0;
    let more = false;
    const finish = () => {
      const give = () =>
        done({
          run: run.filter((seq) => !room.fenced.has(seq)).map((seq) => readFor(room, seq)),
          high,
          more,
        });
      if (more && clock.now >= turnEndsAt) {
        // The turn is over with more to read: the room's next execution reads on.
        more = false;
        handOff(room, high, give);
        return;
      }
      give();
    };
    const pass = () => {
      const limit = s.cycleItems - run.length;
      if (limit <= 0) {
        more = true;
        finish();
        return;
      }
      clock.at(clock.now + Math.max(draw(L.dynamodbQuery), draw(L.dynamodbItem)), () => {
        const now = clock.now;
        const head = room.head;
        const entries = new Set<number>();
        let lastStored = high;
        for (let seq = high + 1; seq <= head && entries.size < limit; seq++)
          if (inLog(room, seq)) {
            entries.add(seq);
            lastStored = seq;
          }
        // A full page may have more after it: the walk stops at its end.
        const full = entries.size >= limit;
        const top = full ? lastStored : Math.max(lastStored, head);
        let pending = false;
        const walk = (from: number) => {
          for (let seq = from; seq <= top; seq++) {
            if (!entries.has(seq)) {
              const since = missingSince.get(seq) ?? now;
              missingSince.set(seq, since);
              if (now - since < s.holeMs) {
                pending = true;
                break;
              }
              // Fenced: a gap marker put if the seq is still free; a message stored at the last moment is read instead.
              const fencedAt = write(`messages#${room.id}`, clock.now, 1);
              if (fencedAt === undefined) {
                pending = true;
                break;
              }
              clock.at(fencedAt, () => {
                if (room.messages[seq]?.storedAt === undefined) {
                  room.fenced.add(seq);
                  wakeCounts.fenced++;
                }
                run.push(seq);
                high = seq;
                walk(seq + 1);
              });
              return;
            }
            const size = room.fenced.has(seq) ? 0 : s.messageBytes;
            if (bytes + size > s.cycleBytes && run.length > 0) {
              more = true;
              break;
            }
            run.push(seq);
            bytes += size;
            high = seq;
          }
          after(now, head, lastStored, full, pending);
        };
        walk(high + 1);
      });
    };
    const after = (now: number, head: number, lastStored: number, full: boolean, pending: boolean) => {
      if (more || (full && high >= lastStored)) {
        more = true;
        finish();
        return;
      }
      if (!pending && high >= head) {
        // Every seq taken is in this read: `REMOVE awake` if the room's seq is still `high`, else read on at once.
        const at = write(roomKey(room), clock.now, 1);
        clock.at(at ?? clock.now, () => {
          if (at !== undefined && room.head === high) {
            room.awakeSince = undefined;
            wakeCounts.sleeps++;
            mark(room, 'sleep');
            finish();
            return;
          }
          wakeCounts.sleepsBeaten++;
          pass();
        });
        return;
      }
      // A seq is being stored: post what came before it now, and read again after the posts.
      if (run.length > 0) {
        more = true;
        finish();
        return;
      }
      if (now >= turnEndsAt) {
        handOff(room, high, finish);
        return;
      }
      wakeCounts.polls++;
      clock.at(clock.now + s.pollMs, pass);
    };
    clock.at(clock.now + draw(L.dynamodbItem), pass);
  };

  /** The room handed on: its mark renewed (`SET awake = :now`), then a RoomWake published for its next execution. */
  const handOff = (room: Room, high: number, then: () => void) => {
    wakeCounts.handOffs++;
    const at = write(roomKey(room), clock.now, 1) ?? clock.now + draw(L.dynamodbItem);
    clock.at(at, () => {
      room.awakeSince = clock.now;
      publishWake(room, high + 1, 'handOff', then);
    });
  };

  // ---------------------------------------------------------------- load

  for (const room of rooms) {
    let count = 0;
    const next = (at: number) => {
      // A count of messages is sent whole after the warm-up (the twin's hot room sends a count); else the seconds
      // bound the sending.
      if (scenario.messages !== undefined ? count >= scenario.messages : at >= sendEnd) return;
      if (at >= measureFrom) count++;
      clock.at(at, () => {
        send(room, clock.now);
        next(clock.now + (-Math.log(random()) * 1000) / scenario.rate);
      });
    };
    next((-Math.log(random()) * 1000) / scenario.rate);
  }

  features?.startReads(rooms, sendEnd);
  features?.startPresence(rooms, sendEnd);
  clock.runUntil(sendEnd);
  const unread = () =>
    rooms.reduce(
      (n, room) =>
        n + room.messages.filter((m) => m?.storedAt !== undefined && m.readAt === undefined).length,
      0,
    );
  const backlogAtSendEnd = unread();
  clock.runUntil(end);
  const backlogAtEnd = unread();

  const seconds = scenario.seconds;
  const queueRate = queueCalls.rate(seconds, fromSecond);
  let busiest = { mean: 0, peak: 0 };
  for (const g of groupCalls.values()) {
    const r = g.rate(seconds, fromSecond);
    if (r.mean > busiest.mean) busiest = r;
  }
  const owed = rooms.reduce(
    (n, room) =>
      n +
      room.messages.filter((m) => m?.storedAt !== undefined && m.sentAt >= measureFrom).length * room.members,
    0,
  );
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const quotas = meters.uses(fromSecond, lambdas, features?.quotaUses(fromSecond));
  // Counts since the warm-up's end.
  const since = <T extends object>(now: T, then: T | undefined): T =>
    Object.fromEntries(
      Object.entries(now).map(([k, v]) => [k, v - ((then as Record<string, number> | undefined)?.[k] ?? 0)]),
    ) as T;
  Object.assign(refusals, since(refusals, warm?.refusals));
  Object.assign(outcomes, since(outcomes, warm?.outcomes));
  Object.assign(wakeCounts, since(wakeCounts, warm?.wakeCounts));
  outcomes.coldStarts = lambdas.coldStartsSince(fromSecond);
  const bindsFirst = bindingQuota(quotas);
  return {
    design,
    scenario: scenario.name,
    seed: run.seed,
    profile: profile.name,
    rooms: scenario.rooms,
    members: scenario.members,
    offeredPerSecond: r1(scenario.rooms * scenario.rate),
    sentPerSecond: r1(sent / seconds),
    sent,
    delivered: tally.delivered,
    missing: Math.max(0, owed - (tally.delivered - duplicated)),
    duplicated,
    p50Ms: tally.latency.percentile(50),
    p99Ms: tally.latency.percentile(99),
    maxMs: tally.latency.max,
    postsPerSecond: r1(tally.postsInWindow / seconds),
    posts: tally.posts,
    queueSendMessagePerSecond: r1(queueRate.mean),
    queueSendMessagePeak: queueRate.peak,
    groupSendMessagePerSecond: r1(busiest.mean),
    groupSendMessagePeak: busiest.peak,
    executions,
    executionP50Ms: executionMs.percentile(50),
    executionP99Ms: executionMs.percentile(99),
    wakes: wakeCounts,
    refusals,
    routeRefusals: routes.refusedByRoute(fromSecond),
    ...(features && { features: features.counts }),
    outcomes,
    rates: meters.rates(seconds, fromSecond),
    quotas,
    ...(bindsFirst && { bindsFirst }),
    backlogAtSendEnd,
    backlogAtEnd,
    simulatedSeconds: r1(clock.now / 1000),
    events: clock.count,
  };
}
