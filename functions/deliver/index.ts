import type { Context } from 'aws-lambda';
import { instrumented } from '#platform/invocation';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
// Traced: Deliver's segments are the fan-out's part of a message's trace (functions/platform/tracing.ts).
import '#platform/tracing';
import { type Settled, settleDeparture } from '#core/identity/departure';
import { connectionStore, departureRecords, disconnectCounts, personRooms } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { notifier } from '#core/wiring/managementApi';
import { presenceBoard, presencePublisher } from '#core/wiring/presence';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { type IndexInput, type IndexReport, indexTurn } from '#search/indexing';
import { type BroadcastPlan, type BroadcastPlanInput, planBroadcast } from './broadcastPlan';
import { type SettleInput, settle } from './handBack';
import { type PostDeps, type PostInput, type PostReport, post } from './post';
import { type Prepared, type PreparedRoom, prepareRooms, readAgain } from './prepare';
import { deadlineOf } from './timing';
import { cursorStore, fanoutStore, turnIndex } from './wiring';

export type { BroadcastPlan, BroadcastPlanInput } from './broadcastPlan';
export type { PostInput, PostReport } from './post';
export type { Prepared, PreparedRoom } from './prepare';
/**
 * Deliver: the steps of the fan-out state machine that are code (statemachines/fanout.asl.json): `prepare` turns the
 * execution's input (the fan-out queue's batch) into each room's frames, reading each woken room's log after its
 * fan-out cursor (prepare.ts, roomLog.ts; the machine saves the cursor after the posts); `room` reads a room's next
 * cycle while its log holds more; `post` posts a chunk of a room's members their frames (post.ts); `index` puts the
 * words of a turn's messages in search's index once they are posted (search/indexing.ts). The everyone-broadcast's machine (statemachines/broadcast.asl.json)
 * starts with `broadcast` (its frames, Scan segments and deadline: broadcastPlan.ts) and posts with `post`. `settle`
 * lists the records of rooms the fan-out handed back (handBack.ts). The
 * departure machine (statemachines/departure.asl.json) ends with `leave`: the rooms a closed connection left, each
 * told unless the person is back in it (core/identity/departure.ts).
 */
export { GIVE_UP_MS, STOP_POSTING_MS } from './timing';

interface PrepareInput {
  op: 'prepare';
  /** The execution's input as it came: the pipe's array of queue records, or one everyone-broadcast event. */
  input: unknown;
}

/** The departure machine's step (statemachines/departure.asl.json): the rooms a closed connection left, told now. */
interface LeaveInput {
  op: 'leave';
  /** The `Departed` event's detail (core/identity/departure.ts), as the bus handed it to the machine. */
  departure: unknown;
}

interface ReadRoomInput {
  op: 'room';
  roomId: string;
  /** The execution's start (ISO 8601): the room's turn is counted from it (roomLog.ts ROOM_TURN_MS). */
  startedAt: string;
}

const deps = onFirstCall(
  (): PostDeps => ({
    store: fanoutStore(),
    notifier: notifier(),
    // A runtime setting: read from the settings document on every invocation (platform/settings.ts).
    get postsPerSecond() {
      return settings().FanoutPostsPerSecond;
    },
    now: Date.now,
    random: Math.random,
    events: eventPublisher(),
    // A closed room's members, moved to the lobby before its `roomclosed` posts (post.ts moveOutIfClosed).
    moveOut: (connectionId, roomId, at) => movers().moveOutOf(connectionId, roomId, at),
  }),
);

const movers = onFirstCall(connectionStore);

const cursors = onFirstCall(cursorStore);
const boards = onFirstCall(presenceBoard);
const words = onFirstCall(turnIndex);
const departures = onFirstCall(() => ({
  people: personRooms(),
  // The leaves go on each room's presence board (core/identity/presence.ts).
  events: presencePublisher(),
  departures: departureRecords(),
  // The `$disconnect` counters a reconnect storm is read from (core/identity/grace.ts).
  storm: { counts: disconnectCounts(), now: systemClock },
}));

type DeliverInput =
  | PrepareInput
  | ReadRoomInput
  | PostInput
  | IndexInput
  | BroadcastPlanInput
  | LeaveInput
  | SettleInput;
type DeliverOutput =
  | Prepared
  | Prepared['summary']
  | PreparedRoom
  | (PostReport & { at?: string })
  | IndexReport
  | BroadcastPlan
  | Settled;

/** Each step the machines name (`op`), and its code: one entry per op, the input type told by its `op`. */
const STEPS: {
  [Op in DeliverInput['op']]: (
    input: Extract<DeliverInput, { op: Op }>,
    context?: Context,
  ) => DeliverOutput | Promise<DeliverOutput>;
} = {
  prepare: (input) => prepareRooms(input.input, cursors(), boards()),
  room: (input) => {
    if (typeof input.roomId !== 'string' || typeof input.startedAt !== 'string')
      throw new TypeError('a fan-out room read needs its roomId and startedAt');
    return readAgain(input.roomId, cursors(), input.startedAt);
  },
  post: async (input, context) => {
    if (!Array.isArray(input.frames) || (input.roomId !== null && typeof input.roomId !== 'string'))
      throw new TypeError('a fan-out post needs its roomId (null: everyone) and frames');
    const report = await post(deps(), input, deadlineOf(context));
    // `stamp`: the everyone-broadcast's machine asks when the chunk was posted (`at`, Deliver's clock) for its
    // time bound (broadcast.asl.json, MorePages); the fan-out does not.
    return (input as { stamp?: unknown }).stamp === true
      ? { ...report, at: new Date().toISOString() }
      : report;
  },
  // After a turn's posts, before its cursor is saved: search's word index for the turn's messages (search/indexing.ts).
  index: (input) =>
    indexTurn(input, words(), {
      enabled: settings().SearchIndexing === 'on',
      retentionSeconds: config.messageRetentionDays() * 86400,
    }),
  broadcast: (input) => planBroadcast(input, Date.now()),
  leave: (input) => settleDeparture(departures(), input.departure),
  settle: (input) => {
    if (typeof input.outcomes !== 'string' || typeof input.summary !== 'object' || input.summary === null)
      throw new TypeError("a fan-out settle needs the execution's summary and the Rooms Map's outcomes");
    return settle(input);
  },
};

const instrumentedHandler = instrumented(
  async (input: DeliverInput, context?: Context): Promise<DeliverOutput> => {
    const op = (input as { op?: unknown })?.op;
    if (typeof op !== 'string' || !Object.hasOwn(STEPS, op))
      throw new TypeError(
        `Deliver expects a fan-out step { op: ${Object.keys(STEPS)
          .map((name) => JSON.stringify(name))
          .join(' | ')} }, not ${JSON.stringify(op)}`,
      );
    const step = STEPS[op as DeliverInput['op']] as (
      input: DeliverInput,
      context?: Context,
    ) => DeliverOutput | Promise<DeliverOutput>;
    return step(input, context);
  },
);

export function handler(input: PrepareInput, context?: Context): Promise<Prepared>;
export function handler(input: ReadRoomInput, context?: Context): Promise<PreparedRoom>;
export function handler(input: PostInput, context?: Context): Promise<PostReport>;
export function handler(input: IndexInput, context?: Context): Promise<IndexReport>;
export function handler(input: BroadcastPlanInput, context?: Context): Promise<BroadcastPlan>;
export function handler(input: LeaveInput, context?: Context): Promise<Settled>;
export function handler(input: SettleInput, context?: Context): Promise<Prepared['summary']>;
export function handler(input: DeliverInput, context?: Context): Promise<DeliverOutput> {
  return instrumentedHandler(input, context);
}
