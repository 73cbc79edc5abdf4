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
 *   the messages function's invoke [Lambda concurrency and scaling; a cold start's init] → the sender's buckets
 *   [PersonSendRateLimit across its connections, SendRateLimit on its connection: sendLimits.ts] → UpdateItem seq on the
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
 * The parts, each its own file taking the run's state (modelSetup.ts: settings, clock, draws, meters, counters, rooms,
 * a DynamoDB write with the SDK's retries, a rule's invocation): modelSendPath.ts (send to SendMessage),
 * modelPipe.ts (the queue's groups and the pipe's batches), modelExecution.ts (an execution, its rooms' posts and
 * cursors; the posts in modelPosting.ts), modelReader.ts (`wake`: the reader of a room's log, sleep and hand-off),
 * modelAssembly.ts (the result). None imports another; this file wires them, offers the load and runs the clock.
 *
 * Approximations, each on the side of fewer surprises than AWS can give: no failures but quota refusals; a quota is
 * counted per whole second of simulated time; a read sees the log as it is when its calls return; an execution's
 * posts are counted against the account's second when its reads are done (executions running at once may count a
 * later second's posts before an earlier one's); a write throttled past the SDK's retries in the reader (a fence, a
 * sleep) is read again rather than failing the room; the fan-out's own reads' capacity units are not counted (a
 * cycle's ~18 RCU); typing, reads, presence, the word index and the push rule (featureTraffic.ts), and heartbeats,
 * joins' writes, history and search reads, broadcasts, push posts and Parameter Store reads (extraTraffic.ts) run
 * beside the messages on the same meters, each file naming what it leaves out; every member of a room is
 * connected, none is gone. One on the other side: a refused PutEvents is not retried (the SDK's
 * retries would publish some of them), so past a Region's PutEvents quota the receipts missing are an upper bound.
 */
import { assembleResult, unread } from './modelAssembly';
import { executions } from './modelExecution';
import { queueAndPipe } from './modelPipe';
import { roomReader } from './modelReader';
import type { ModelResult } from './modelResult';
import { sendPath } from './modelSendPath';
import type { ModelRun } from './modelSettings';
import { setUpModel } from './modelSetup';
import { seededRandom } from './simulation';

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

/** Runs one design under one load and returns what a dashboard would show. */
export function runModel(run: ModelRun): ModelResult {
  const st = setUpModel(run);
  const { scenario } = run;
  const { clock, random, rooms, features, measureFrom, sendEnd } = st;
  // The parts call each other in a circle (send → queue → execution → reader → a hand-off's wake): each is given the
  // next through a function, bound once all exist.
  const pipe = queueAndPipe(st, (batch, locked) => execute(batch, locked));
  const path = sendPath(st, pipe.visible);
  const readRoom = roomReader(st, path.publishWake);
  const execute = executions(st, pipe.release, readRoom);

  // The load: each room's members send a Poisson stream of `rate` messages a second.
  for (const room of rooms) {
    let count = 0;
    const next = (at: number) => {
      // A count of messages is sent whole after the warm-up (the twin's hot room sends a count); else the seconds
      // bound the sending.
      if (scenario.messages !== undefined ? count >= scenario.messages : at >= sendEnd) return;
      if (at >= measureFrom) count++;
      clock.at(at, () => {
        path.send(room, clock.now);
        next(clock.now + (-Math.log(random()) * 1000) / scenario.rate);
      });
    };
    next((-Math.log(random()) * 1000) / scenario.rate);
  }

  features?.startReads(rooms, sendEnd);
  features?.startPresence(rooms, sendEnd);
  st.extra?.startKeepalive(rooms);
  st.extra?.startReads(rooms);
  st.extra?.startBroadcasts(rooms);
  clock.runUntil(sendEnd);
  const atSendEnd = unread(rooms);
  clock.runUntil(st.end);
  return assembleResult(st, { atSendEnd, atEnd: unread(rooms) });
}
