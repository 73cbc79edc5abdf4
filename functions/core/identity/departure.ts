import { randomUUID } from 'node:crypto';
import type { Connection, Departure, EventPublisher, Subscribed } from '#core/ports';
import { LIMITS, LOBBY } from '#core/protocol';
import type { Clock } from '#platform/clock';
import { logger } from '#platform/powertools';
import { type DisconnectCounts, LEAVE_GRACE_SECONDS, stormWaitLeft, stormWindow } from './grace';
import { presenceEvent } from './presence';

/**
 * Leaving the rooms on close (docs/DECISIONS.md, "Leaving on close"). `$disconnect` publishes one `Departed` event
 * naming every room the connection followed, whatever their number; the departure machine
 * (statemachines/departure.asl.json) waits LEAVE_GRACE_SECONDS, then Deliver settles it: closes the user's
 * departure record to returns and publishes a `leave` for each room that no live connection of the same signed-in
 * user follows under the same name by then. A reconnect before that step (a dropped network, a reloaded page, a storm
 * of them after an outage), in whatever order with the close's `$disconnect`, is not a leave and a join: its rooms
 * hear nothing of the close, and the reconnect storm costs the bus one entry per connection, not one per room.
 */

/** The pause before the rooms are told, and its stretch in a reconnect storm (grace.ts). Exported for tests. */
export { LEAVE_GRACE_SECONDS } from './grace';

/**
 * How long a departure stays open for a return at most, from `$disconnect`: the departure machine's TimeoutSeconds
 * (statemachines/departure.asl.json), the longest a machine started on time runs. A departure is settled, and so
 * closed, by its machine's step well before (settleDeparture); this bound ends one whose machine never ran (its
 * publish lost) or started later than it (its start throttled and retried by rule LeaveRooms): a return past it tells
 * its joins, and the late settle finds the person back and tells no leave.
 * Exported for tests: the bound the tests step the clock past.
 */
export const DEPARTURE_OPEN_MS = 200 * 1000;

/**
 * A user's connections read at most to find where the person still is (a departure settled, a `leaveroom`): past
 * any one person's devices, and bounded.
 */
export const PERSON_DEVICES_READ = 25;

/**
 * Times `$disconnect` publishes its departure before giving up, and the first pause between tries (doubling).
 * Exported for tests: the tries the tests count before it gives up.
 */
export const DEPARTURE_PUBLISH_TRIES = 3;
const DEPARTURE_RETRY_MS = 100;

/**
 * The departure of a removed connection: the rooms it followed under the name it showed in each (the shown room too
 * when its subscription was pruned), the lobby left out; undefined when it followed none.
 */
export function departureOf(gone: Connection & { followed?: Subscribed[] }): Departure | undefined {
  const rooms = new Map((gone.followed ?? []).map((s) => [s.roomId, s.username]));
  if (!rooms.has(gone.roomId)) rooms.set(gone.roomId, gone.username);
  rooms.delete(LOBBY);
  if (rooms.size === 0) return undefined;
  return {
    type: 'Departed',
    messageId: randomUUID(),
    ...(gone.userId?.startsWith('user:') && { userId: gone.userId }),
    rooms: [...rooms].map(([roomId, username]) => ({ roomId, username })),
    waitSeconds: LEAVE_GRACE_SECONDS,
  };
}

/**
 * Publishes the departure, tried DEPARTURE_PUBLISH_TRIES times with a doubling pause: API Gateway never calls
 * `$disconnect` again, so a publish lost here would leave the person shown present in every room it followed.
 */
export async function publishDeparture(
  events: Pick<EventPublisher, 'publish'>,
  departure: Departure,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await events.publish([departure]);
    } catch (error) {
      if (attempt >= DEPARTURE_PUBLISH_TRIES) throw error;
      await sleep(DEPARTURE_RETRY_MS * 2 ** (attempt - 1));
    }
  }
}

/** Where a signed-in user is now: the rooms its live connections follow, with the name each shows there. */
export interface PersonRooms {
  roomsOf(userId: string, devices: number): Promise<Subscribed[]>;
}

type SettleDeps = {
  people: PersonRooms;
  events: Pick<EventPublisher, 'publish'>;
  departures?: Pick<DepartureRecords, 'settle'>;
  /** The `$disconnect` counters and the clock that picks their window: a storm stretches the grace once. */
  storm?: { counts: Pick<DisconnectCounts, 'read'>; now: Clock };
};

/** The settle step's answer: the rooms told, or (a storm) the seconds the machine waits before settling. */
export type Settled = { left: number; stayed: number } | { stormWaitSeconds: number };

/**
 * After the pause: a `leave` for each room of the departure that the user does not follow again under the same name
 * (a user that came back as "alice (2)" still has "alice" leave), ten to a PutEvents call. First the departure's
 * record is closed (one conditional UpdateItem): a return that read it open had written its subscriptions before that
 * read, so the strongly consistent reads of where the person is, made after the close, find them; a return that reads
 * it closed tells its joins. Either order shows a person back in a room neither a leave nor a join there. Then one
 * page of the user index and one strongly consistent Query per live connection of the user; none without sign-in.
 * Returns how many rooms were told.
 *
 * In a reconnect storm (grace.ts stormWaitSeconds: the STORM_WINDOW_SECONDS of `$disconnect` counters ending a grace
 * after the departure's close, past STORM_DISCONNECTS) a signed-in user's departure not yet `stretched` is not
 * settled: the step answers the seconds left until the reconnect backlog has drained, counted from the close (a
 * machine started late waits less), and the machine waits them, then asks again with `stretched` (once: the loop
 * is bounded). A guest's departure is told at the grace: its return cannot be recognised. A failed read of the
 * counters settles at the grace, as without a storm.
 */
export async function settleDeparture(deps: SettleDeps, input: unknown): Promise<Settled> {
  const departure = parseDeparture(input);
  if (departure.userId !== undefined && deps.storm && (input as { stretched?: unknown }).stretched !== true) {
    const wait = await stormStretch(deps.storm, departure.closedAt);
    if (wait > 0) return { stormWaitSeconds: wait };
  }
  const back = new Set<string>();
  if (departure.userId !== undefined) {
    if (deps.departures && departure.messageId !== undefined)
      await deps.departures.settle(departure.userId, departure.messageId);
    for (const s of await deps.people.roomsOf(departure.userId, PERSON_DEVICES_READ))
      back.add(`${s.roomId}\n${s.username}`);
  }
  const leaving = departure.rooms.filter((s) => !back.has(`${s.roomId}\n${s.username}`));
  const events = leaving.map((s) => presenceEvent(s.roomId, 'leave', s.username));
  for (let i = 0; i < events.length; i += 10) await deps.events.publish(events.slice(i, i + 10));
  return { left: leaving.length, stayed: departure.rooms.length - leaving.length };
}

/**
 * The storm's extra wait now: 0 outside a storm, and when the counters cannot be read (logged). A departure that
 * carries its close's time reads the window ending a grace after that close and waits what is left of its stretch
 * (grace.ts stormWaitLeft): a machine started late, its start throttled in the storm, would otherwise read a window
 * past the storm's closes and settle before the reconnect backlog has drained. One without reads the window ending now.
 */
async function stormStretch(storm: NonNullable<SettleDeps['storm']>, closedAt?: number): Promise<number> {
  const nowMs = storm.now().getTime();
  const dueMs = closedAt === undefined ? nowMs : closedAt + LEAVE_GRACE_SECONDS * 1000;
  try {
    return stormWaitLeft(await storm.counts.read(stormWindow(dueMs)), dueMs, nowMs);
  } catch (error) {
    logger.warn('reading the disconnect counters failed: settled at the grace', { error });
    return 0;
  }
}

/**
 * Counts a close for the storm rule (one ADD to the current second's counter). A failed count (a throttled key past
 * 1,000 closes in a second) is logged and the close goes on: the storm then reads a lower count, still past
 * STORM_DISCONNECTS at that rate, and a departure's settle at worst waits less.
 */
export async function countDisconnect(deps: {
  counts: Pick<DisconnectCounts, 'add'>;
  now: Clock;
}): Promise<void> {
  await deps.counts
    .add(Math.floor(deps.now().getTime() / 1000))
    .catch((error: unknown) => logger.warn('counting the disconnect failed', { error }));
}

/** The machine's input, checked: a TypeError (the execution fails, logged) for anything but a departure. */
function parseDeparture(
  input: unknown,
): Pick<Departure, 'userId' | 'rooms' | 'closedAt'> & { messageId?: string } {
  const { userId, rooms, messageId, closedAt } = (input ?? {}) as Record<string, unknown>;
  if (userId !== undefined && typeof userId !== 'string')
    throw new TypeError("a departure's userId must be a string");
  if (messageId !== undefined && typeof messageId !== 'string')
    throw new TypeError("a departure's messageId must be a string");
  if (closedAt !== undefined && !Number.isFinite(closedAt))
    throw new TypeError("a departure's closedAt must be epoch milliseconds");
  if (!Array.isArray(rooms) || rooms.length > LIMITS.subscriptionsMax + 1)
    throw new TypeError(`a departure names 0 to ${LIMITS.subscriptionsMax + 1} rooms`);
  return {
    ...(userId !== undefined && { userId }),
    ...(messageId !== undefined && { messageId }),
    ...(closedAt !== undefined && { closedAt: closedAt as number }),
    rooms: rooms.map((room: unknown) => {
      const { roomId, username } = (room ?? {}) as Record<string, unknown>;
      if (typeof roomId !== 'string' || typeof username !== 'string')
        throw new TypeError('each room of a departure has a roomId and a username');
      return { roomId, username };
    }),
  };
}

/**
 * A signed-in user's latest departure: the rooms it left under the name shown in each. It is open for a return until
 * its machine settles it (settleDeparture), or at most until `openUntil`.
 */
export interface DepartureRecord {
  /** The departure's `messageId`: its settle closes this record, not a later departure's. */
  departureId: string;
  rooms: Subscribed[];
  /** Epoch ms: `$disconnect` + DEPARTURE_OPEN_MS. */
  openUntil: number;
  /** Set once its machine settled it: a return after that is told as a join. */
  settled?: boolean;
}

/** One record per signed-in user, the latest close's replacing the one before (`departed#<userId>`, Limits table). */
export interface DepartureRecords {
  put(userId: string, record: DepartureRecord): Promise<void>;
  /** The user's record, read strongly consistent; undefined when there is none. */
  latest(userId: string): Promise<DepartureRecord | undefined>;
  /** Marks the record settled if it is still this departure's (a later close's record is left open). */
  settle(userId: string, departureId: string): Promise<void>;
}

/**
 * Records a signed-in user's departure for its return (`subscribe` and `joinroom`, `notReturning`). A failed write is
 * logged and the close goes on: the return then publishes its joins, and the rooms hear one join and no leave.
 */
export async function recordDeparture(
  deps: { departures: Pick<DepartureRecords, 'put'>; now: Clock },
  departure: Departure,
): Promise<void> {
  if (departure.userId === undefined) return;
  await deps.departures
    .put(departure.userId, {
      departureId: departure.messageId,
      rooms: departure.rooms,
      openUntil: deps.now().getTime() + DEPARTURE_OPEN_MS,
    })
    .catch((error: unknown) =>
      logger.error('recording the departure failed', { rooms: departure.rooms.length, error }),
    );
}

/**
 * The rooms just followed that are not a return: those the signed-in user's open departure does not name under the
 * same name, or all of them once it is settled. Called after the rooms' subscriptions are written, so a return
 * that reads the departure open is one its settle finds back. One strong GetItem, only for a signed-in user with rooms
 * to tell; a failed read tells them all (a join too many is harmless, a join missing is not).
 */
export async function notReturning(
  deps: { departures?: Pick<DepartureRecords, 'latest'>; now: Clock },
  userId: string | undefined,
  joined: Subscribed[],
): Promise<Subscribed[]> {
  if (joined.length === 0 || deps.departures === undefined || !userId?.startsWith('user:')) return joined;
  const record = await deps.departures.latest(userId).catch((error: unknown) => {
    logger.warn('reading the departure failed: the joins are told', { error });
    return undefined;
  });
  if (record === undefined || record.settled || deps.now().getTime() >= record.openUntil) return joined;
  const left = new Set(record.rooms.map((s) => `${s.roomId}\n${s.username}`));
  return joined.filter((s) => !left.has(`${s.roomId}\n${s.username}`));
}
