import { ROOM_INDEX_SHARDS, removedFilter } from '#core/aws/roomMembers';
import { type PresenceBoard, presenceFrameOf } from '#core/identity/presence';
import { logger } from '#platform/powertools';
import { batchFrames, coalesceRoomState, type Frame } from './coalescing';
import { roomIndexKeys } from './roomIndexKeys';
import {
  type ByteBudget,
  type CursorItem,
  type LogEntry,
  type LogStore,
  ROOM_TURN_MS,
  type RoomHead,
  readRoom,
} from './roomLog';

/**
 * Prepare: the fan-out execution's first step (statemachines/fanout.asl.json). It turns what started the execution
 * into the frames each room's members get:
 *
 * - the fan-out pipe's batch: up to ten records of the FIFO fan-out queue (template.yaml, FanoutPipe), each the
 *   detail of an event of the chat bus (its `body`: RoomEventsRule's InputPath), in the queue's order. The queue's
 *   message group is the room, so no other execution holds the same room meanwhile. A record with a seq is a wake
 *   (`RoomWake`: the room has news): the room's messages are read from its log after its cursor (roomLog.ts), in
 *   seq order, however many were stored; a read position or a room's broadcast (no seq) is its own frame, before
 *   them; a presence wake (`board`) has the room's presence board taken, its changes told in one frame, first
 *   (core/identity/presence.ts);
 * - an everyone-broadcast: the EventBridge event itself, which its own rule hands to an execution directly (it is
 *   posted to every connection and needs no order with any room, so it never waits in, or holds up, a room's group).
 *
 * The machine reads a room again (`room`, readAgain) while its log holds more than one cycle posts.
 */

/** A record of the fan-out queue as EventBridge Pipes passes it to the state machine (the fields Prepare reads). */
interface QueueRecord {
  messageId?: string;
  body?: string;
  attributes?: { MessageGroupId?: string; ApproximateReceiveCount?: string };
}

/** An event's detail, as core/aws/eventbridge.ts publishes it. */
interface EventDetail {
  messageId?: unknown;
  roomId?: unknown;
  seq?: unknown;
  payload?: unknown;
  /** A presence wake: the room's presence board has changes to tell. */
  board?: unknown;
  /** A room's close: its members are moved out before the frame is posted to them. */
  movesOut?: unknown;
}

/** An event of the chat bus. */
interface BusEvent {
  'detail-type'?: string;
  detail?: EventDetail;
}

/** One room's part of the execution (roomId null: a broadcast to every connection). */
export interface PreparedRoom {
  roomId: string | null;
  /** The room's keys in the room index, each Queried for its members; for everyone, one pass of the Scan. */
  keys: string[];
  /**
   * The Query's filter over the room index (`FilterExpression`, and its values besides the key's): the connections
   * showing a name the owner removed are left out, by the room's strongly consistent read of this cycle (roomLog.ts),
   * whether or not the removal found them in the index.
   */
  filter: string;
  filterValues: Record<string, { S: string }>;
  /** True for a broadcast to everyone: its members are the whole connections table, read by Scan. */
  scan: boolean;
  /** What each member gets, in order. */
  frames: Frame[];
  /** The room's fan-out cursor, saved by the machine once its posts are done (roomLog.ts); null: nothing to save. */
  cursor: CursorItem | null;
  /** The room's log holds more than this cycle posts: the machine reads the room again after the posts. */
  more: boolean;
  /**
   * The queue records (their messageIds) that brought the room's events: handed back alone, as the pipe's partial
   * batch failure, when the room's read, Query or posts fail past their retries (the machine's HandBackRoom).
   */
  records: string[];
}

export interface Prepared {
  rooms: PreparedRoom[];
  /** The execution's output: what it delivered (repeats and unreadable records dropped). */
  summary: {
    rooms: number;
    events: number;
    frames: number;
    batchItemFailures?: { itemIdentifier: string }[];
  };
}

/** One event as Prepare keeps it: its room, its place in the queue, its seq (absent: not a message) and frame. */
interface RoomEvent {
  roomId: string | null;
  messageId: string;
  seq?: number;
  /** Absent for a wake (its messages are read from the log, its presence from its board). */
  payload?: string;
  /** A presence wake: the room's board is taken (its frame made then). */
  board?: true;
  /** A room's close: its members are moved out before the frame is posted to them (post.ts). */
  movesOut?: string;
  /** The queue record it came in (absent for an everyone-broadcast, which comes as the event itself). */
  recordId?: string;
}

/** The one "key" of a broadcast to everyone: its one pass of the Scan of the connections table. */
const EVERYONE = '*';

/**
 * Step Functions' state: at most 262,144 bytes of UTF-8 JSON, over which the execution fails with
 * States.DataLimitExceeded, which no Retry or Catch matches. Prepare's result holds every room of the batch (up to
 * ten), so each room reads at most an equal share of it, less its own fields (keys, filter, records, presence
 * frames) and PREPARE_RESERVE_BYTES for the summary and each frame's fields (docs/DECISIONS.md, "No batch can poison
 * itself"); the rest of a busy room's log is read by the machine's ReadRoom, one room per state, up to CYCLE_BYTES.
 */
const STATE_LIMIT_BYTES = 262_144;
/** The summary, the JSON around the rooms, and each frame's own fields (~80 bytes a frame, ≤ 200 frames a room). */
const PREPARE_RESERVE_BYTES = 4_096;
const ROOM_RESERVE_BYTES = 1_024;
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** A room's share of Prepare's result for its log's frames, once its head (removed names, key level) is read. */
function roomShare(roomId: string, states: RoomEvent[], records: string[], rooms: number): ByteBudget {
  const share = Math.floor((STATE_LIMIT_BYTES - PREPARE_RESERVE_BYTES) / rooms);
  return (head: RoomHead) => {
    const fields = { ...prepareRoom(roomId, states, null, head.removed, head.keyLevel), records };
    return share - jsonBytes(fields) - ROOM_RESERVE_BYTES;
  };
}

/**
 * The execution's input (the pipe's records, or one everyone-broadcast event) as each room's frames: a woken room's
 * news read from its log after its cursor (roomLog.ts), with the cursor to save after the posts.
 */
export async function prepareRooms(
  input: unknown,
  store: LogStore,
  boards?: Pick<PresenceBoard, 'take'>,
): Promise<Prepared> {
  const { byRoom, messageIds, records } = roomsOf(input);
  const failed: string[] = [];
  const rooms = await Promise.all(
    [...byRoom].map(async ([roomId, roomEvents]) => {
      const states = roomEvents.filter((e) => e.seq === undefined && e.board === undefined);
      const woken = roomEvents.filter((e) => e.seq !== undefined);
      const recordIds = records.get(roomId) ?? [];
      if (roomId === null) return { ...prepareRoom(roomId, states, null, []), records: recordIds };
      const named = woken.map((e) => e.seq as number);
      try {
        // The room's presence board, taken once for all its presence wakes: its frame goes first.
        const wake = roomEvents.find((e) => e.board !== undefined);
        const board = wake && boards ? await boards.take(roomId) : undefined;
        // A room with news of state only (presence, read positions) reads its head alone (one GetItem) for its key
        // level and removed names, where Querying every key a room can have would cost eleven Queries (and as many
        // Deliver chunks) more in a small room.
        if (woken.length === 0) {
          const head = await store.head(roomId);
          const told = withBoard(roomId, states, board, wake, head.keyLevel);
          return { ...prepareRoom(roomId, told, null, head.removed, head.keyLevel), records: recordIds };
        }
        // The board's frame is sized for the room's share at the level a state-only room would read (the largest:
        // names); the read's level then decides whether it names.
        const budget = roomShare(roomId, withBoard(roomId, states, board, wake, 1), recordIds, byRoom.size);
        const read = await readRoom(roomId, named, store, Date.now() + ROOM_TURN_MS, undefined, budget);
        const told = withBoard(roomId, states, board, wake, read.keyLevel);
        return { ...prepareRoom(roomId, told, read, read.removed, read.keyLevel), records: recordIds };
      } catch (error) {
        // The room's log could not be read, even after riding out DynamoDB's throttling: this room's records go back
        // to the queue (the pipe's partial batch failure) and come again after its visibility timeout; the batch's
        // other rooms are delivered now, never held or received again for it.
        logger.warn('fan-out could not read a room: its records are handed back', { roomId, error });
        failed.push(...(records.get(roomId) ?? []));
        return undefined;
      }
    }),
  );
  return prepared(
    input,
    messageIds,
    rooms.filter((r): r is PreparedRoom => r !== undefined),
    failed,
  );
}

/**
 * The room's state events with its presence board's frame first (presenceFrameOf, at the room's key level: absent,
 * a room never raised, level 1); as they were when the board told nothing.
 */
function withBoard(
  roomId: string,
  states: RoomEvent[],
  board: Parameters<typeof presenceFrameOf>[1] | undefined,
  wake: RoomEvent | undefined,
  keyLevel: number | undefined,
): RoomEvent[] {
  const payload = board && wake ? presenceFrameOf(roomId, board, keyLevel ?? 1) : undefined;
  return payload === undefined || !wake
    ? states
    : [{ roomId, messageId: wake.messageId, payload }, ...states];
}

/**
 * A room read again by the machine (`op: room`) after a cycle's posts: its next cycle, within the room's turn of
 * ROOM_TURN_MS from the execution's start (`startedAt`, ISO 8601), past which it is handed on (roomLog.ts).
 */
export async function readAgain(roomId: string, store: LogStore, startedAt: string): Promise<PreparedRoom> {
  const started = Date.parse(startedAt);
  const turnEndsAt = (Number.isFinite(started) ? started : Date.now()) + ROOM_TURN_MS;
  const read = await readRoom(roomId, [], store, turnEndsAt);
  // Its records stay with the machine's Map item (ItemSelector), which this read does not replace.
  return { ...prepareRoom(roomId, [], read, read.removed, read.keyLevel), records: [] };
}

/**
 * An everyone-broadcast's frames, for the broadcast machine's plan (broadcastPlan.ts): as prepareRooms makes them for
 * its room null, which has no log; none for an input that is no such broadcast.
 */
export function everyoneFrames(input: unknown): Frame[] {
  const { byRoom, messageIds } = roomsOf(input);
  const events = byRoom.get(null);
  return (
    prepared(input, messageIds, events ? [{ ...prepareRoom(null, events, null, []), records: [] }] : [])
      .rooms[0]?.frames ?? []
  );
}

/**
 * The input's events by room, in the queue's order, repeats dropped; every event's messageId; and each room's queue
 * records (their ids, repeats included: a room handed back hands back all of them).
 */
function roomsOf(input: unknown): {
  byRoom: Map<string | null, RoomEvent[]>;
  messageIds: string[];
  records: Map<string | null, string[]>;
} {
  const events = (Array.isArray(input) ? input.map(eventOfRecord) : [eventOf(input as BusEvent)]).filter(
    (e): e is RoomEvent => e !== undefined,
  );
  const byRoom = new Map<string | null, RoomEvent[]>();
  const records = new Map<string | null, string[]>();
  for (const event of events) {
    const room = byRoom.get(event.roomId) ?? [];
    room.push(event);
    byRoom.set(event.roomId, room);
    if (event.recordId !== undefined)
      records.set(event.roomId, [...(records.get(event.roomId) ?? []), event.recordId]);
  }
  for (const [roomId, roomEvents] of byRoom) byRoom.set(roomId, withoutRepeats(roomEvents));
  return { byRoom, messageIds: events.map((e) => e.messageId), records };
}

function prepared(
  input: unknown,
  messageIds: string[],
  rooms: PreparedRoom[],
  failed: string[] = [],
): Prepared {
  const summary = {
    rooms: rooms.length,
    events: rooms.reduce((n, r) => n + r.frames.reduce((m, f) => m + Math.max(1, f.messages), 0), 0),
    frames: rooms.reduce((n, r) => n + r.frames.length, 0),
    // The execution's output is this summary: the pipe deletes the batch's records but these (EventBridge Pipes,
    // partial batch failures), which the queue hands out again.
    ...(failed.length > 0 && { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) }),
  };
  // The message ids name the batch's messages, so one message's journey can be followed through the logs by its id.
  logger.info('fan-out prepared', {
    records: Array.isArray(input) ? input.length : 1,
    ...summary,
    messageIds,
  });
  return { rooms, summary };
}

function eventOfRecord(record: QueueRecord): RoomEvent | undefined {
  let detail: EventDetail;
  try {
    detail = JSON.parse(String(record?.body)) as EventDetail;
  } catch {
    logger.error('fan-out record is not an event: dropped', { messageId: record?.messageId });
    return undefined;
  }
  const event = eventOf({ detail }, record?.messageId);
  return event && typeof record?.messageId === 'string' ? { ...event, recordId: record.messageId } : event;
}

/**
 * The event's room, seq and frame; a wake (`RoomWake`: a seq and no frame) names its seq. An event with neither a frame
 * nor a seq is logged and dropped (nothing to post).
 */
function eventOf(event: BusEvent, recordId?: string): RoomEvent | undefined {
  const detail = event?.detail;
  const { roomId, seq, payload, messageId, movesOut } = detail ?? {};
  const hasSeq = Number.isInteger(seq) && (seq as number) > 0;
  const board = detail?.board === true && typeof roomId === 'string' && payload === undefined && !hasSeq;
  const valid =
    (typeof payload === 'string' || (hasSeq && typeof roomId === 'string') || board) &&
    typeof messageId === 'string' &&
    (roomId === undefined || roomId === null || (typeof roomId === 'string' && roomId.length > 0)) &&
    (seq === undefined || hasSeq);
  if (!valid) {
    logger.error('fan-out event without a frame, a messageId or a valid room and seq: dropped', {
      recordId,
      detailType: event?.['detail-type'],
    });
    return undefined;
  }
  return {
    roomId: typeof roomId === 'string' ? roomId : null,
    messageId: messageId as string,
    ...(hasSeq && { seq: seq as number }),
    ...(typeof payload === 'string' && { payload }),
    ...(board && { board: true as const }),
    ...(typeof movesOut === 'string' &&
      typeof roomId === 'string' &&
      typeof payload === 'string' && { movesOut }),
  };
}

/** A seq seen before, or an event without a seq seen before (the same messageId), is a repeat. */
function withoutRepeats(events: RoomEvent[]): RoomEvent[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const key = e.seq === undefined ? `id:${e.messageId}` : `seq:${e.seq}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A room's frames: its state events (presence, read positions, its broadcasts) in the queue's order, then the run read
 * from its log; and its keys at `keyLevel` (absent: every key a room can have).
 */
function prepareRoom(
  roomId: string | null,
  states: RoomEvent[],
  read: { run: LogEntry[]; save: CursorItem | null; more: boolean } | null,
  removed: string[],
  keyLevel: number = ROOM_INDEX_SHARDS,
): Omit<PreparedRoom, 'records'> {
  const frames: Frame[] = states.flatMap((e) =>
    e.payload === undefined
      ? []
      : [{ payload: e.payload, lastSeq: 0, messages: 0, ...(e.movesOut && { movesOut: e.movesOut }) }],
  );
  const { expression: filter, values: filterValues } = removedFilter(removed);
  if (roomId === null)
    return { roomId, keys: [EVERYONE], filter, filterValues, scan: true, frames, cursor: null, more: false };
  // The run's gap markers and fences ride its frames as `gaps` (coalescing.ts).
  if (read) frames.push(...batchFrames(roomId, read.run));
  // A cycle's presence changes and read positions: one frame each per member (coalescing.ts).
  const coalesced = coalesceRoomState(roomId, frames);
  return {
    roomId,
    // A room with nothing to post (its news was gap markers) Queries no key: only its cursor is saved.
    keys: coalesced.length > 0 ? roomIndexKeys(roomId, keyLevel) : [],
    filter,
    filterValues,
    scan: false,
    frames: coalesced,
    cursor: read?.save ?? null,
    more: read?.more ?? false,
  };
}
