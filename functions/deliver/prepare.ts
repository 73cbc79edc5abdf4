import { logger } from '#platform/powertools';
import { batchFrames, coalesceRoomState, type Frame, type SeqPayload } from './coalescing';
import { type CursorItem, type CursorStore, readAhead } from './readAhead';
import { roomIndexKeys } from './roomIndexKeys';

/**
 * Prepare: the fan-out execution's first step (statemachines/fanout.asl.json). It turns what started the execution
 * into the frames each room's members get:
 *
 * - the fan-out pipe's batch: up to ten records of the FIFO fan-out queue (template.yaml, FanoutPipe), each the
 *   detail of an event of the chat bus (its `body`: RoomEventsRule's InputPath), in the queue's order. The queue's
 *   message group is the room, so the batch holds at most one run of each room's events and no other execution
 *   holds the same room meanwhile;
 * - an everyone-broadcast: the EventBridge event itself, which its own rule hands to an execution directly (it is
 *   posted to every connection and needs no order with any room, so it never waits in, or holds up, a room's group).
 *
 * Per room, in the queue's order: a message (any event with a seq: a message, an edit, a delete, a reaction) takes
 * the place of the message whose seq is next in order, so the room's messages go out in seq order even when two
 * senders published them out of it (sendmessage takes the seq, stores the message, then publishes); a repeat (the
 * same seq, or the same event again) is dropped. Consecutive messages share one `batch` frame (coalescing.ts); a
 * presence change or a room's broadcast (no seq) goes as is, in its place. A hole left by a sender that published
 * later (in the next batch) is filled by the client from history (docs/CLIENT.md).
 */

/** A record of the fan-out queue as EventBridge Pipes passes it to the state machine (the fields Prepare reads). */
export interface QueueRecord {
  messageId?: string;
  body?: string;
  attributes?: { MessageGroupId?: string; ApproximateReceiveCount?: string };
}

/** An event's detail, as core/aws/eventbridge.ts publishes it. */
export interface EventDetail {
  messageId?: unknown;
  roomId?: unknown;
  seq?: unknown;
  payload?: unknown;
}

/** An event of the chat bus. */
export interface BusEvent {
  'detail-type'?: string;
  detail?: EventDetail;
}

/** One room's part of the execution (roomId null: a broadcast to every connection). */
export interface PreparedRoom {
  roomId: string | null;
  /** The room's keys in the room index, each Queried for its members; for everyone, one pass of the Scan. */
  keys: string[];
  /** True for a broadcast to everyone: its members are the whole connections table, read by Scan. */
  scan: boolean;
  /** What each member gets, in order. */
  frames: Frame[];
  /** The room's fan-out cursor, saved by the machine once its posts are done (readAhead.ts); null: nothing to save. */
  cursor: CursorItem | null;
}

export interface Prepared {
  rooms: PreparedRoom[];
  /** The execution's output: what it delivered (repeats and unreadable records dropped). */
  summary: { rooms: number; events: number; frames: number };
}

/** One event as Prepare keeps it: its room, its place in the queue, its seq (absent: not a message) and frame. */
interface RoomEvent {
  roomId: string | null;
  messageId: string;
  seq?: number;
  payload: string;
}

/** The one "key" of a broadcast to everyone: its one pass of the Scan of the connections table. */
const EVERYONE = '*';

/**
 * The execution's input (the pipe's records, or one everyone-broadcast event) as each room's frames, with each room's
 * fan-out cursor (readAhead.ts): the events an earlier execution posted ahead dropped, and a busy room's stored
 * messages after its batch read ahead, so its members get them in this execution's frames.
 */
export async function prepareReadingAhead(
  input: unknown,
  cursors: CursorStore,
  nowSeconds: number,
): Promise<Prepared> {
  const { byRoom, messageIds } = roomsOf(input);
  const rooms = await Promise.all(
    [...byRoom].map(async ([roomId, roomEvents]) => {
      if (roomId === null) return prepareRoom(roomId, roomEvents, null);
      try {
        const { events, save } = await readAhead(roomId, roomEvents, cursors, nowSeconds);
        return prepareRoom(roomId, events, save);
      } catch (error) {
        // The cursor could not be read, even after riding out seconds of throttling (dynamoThrottles.ts): the batch
        // goes as it came. That may post again a seq an earlier execution posted ahead (at least once: the client
        // keeps one per seq, docs/RELIABILITY.md), which is better than failing the execution, which would hold the
        // room's queue for its visibility timeout (5 minutes) and then post the whole batch again anyway.
        logger.warn('fan-out read-ahead skipped: the cursor could not be read', { roomId, error });
        return prepareRoom(roomId, roomEvents, null);
      }
    }),
  );
  return prepared(input, messageIds, rooms);
}

/**
 * An everyone-broadcast's frames, for the broadcast machine's plan (broadcastPlan.ts): as prepareReadingAhead makes
 * them for its room null, which has no cursor and reads nothing ahead; none for an input that is no such broadcast.
 */
export function everyoneFrames(input: unknown): Frame[] {
  const { byRoom, messageIds } = roomsOf(input);
  const events = byRoom.get(null);
  return prepared(input, messageIds, events ? [prepareRoom(null, events, null)] : []).rooms[0]?.frames ?? [];
}

/** The input's events by room, in the queue's order, repeats dropped; and every event's messageId. */
function roomsOf(input: unknown): { byRoom: Map<string | null, RoomEvent[]>; messageIds: string[] } {
  const events = (Array.isArray(input) ? input.map(eventOfRecord) : [eventOf(input as BusEvent)]).filter(
    (e): e is RoomEvent => e !== undefined,
  );
  const byRoom = new Map<string | null, RoomEvent[]>();
  for (const event of events) {
    const room = byRoom.get(event.roomId) ?? [];
    room.push(event);
    byRoom.set(event.roomId, room);
  }
  for (const [roomId, roomEvents] of byRoom) byRoom.set(roomId, withoutRepeats(roomEvents));
  return { byRoom, messageIds: events.map((e) => e.messageId) };
}

function prepared(input: unknown, messageIds: string[], rooms: PreparedRoom[]): Prepared {
  const summary = {
    rooms: rooms.length,
    events: rooms.reduce((n, r) => n + r.frames.reduce((m, f) => m + Math.max(1, f.messages), 0), 0),
    frames: rooms.reduce((n, r) => n + r.frames.length, 0),
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
  return eventOf({ detail }, record?.messageId);
}

/** The event's room, seq and frame; an event without a frame is logged and dropped (nothing to post). */
function eventOf(event: BusEvent, recordId?: string): RoomEvent | undefined {
  const detail = event?.detail;
  const { roomId, seq, payload, messageId } = detail ?? {};
  const valid =
    typeof payload === 'string' &&
    typeof messageId === 'string' &&
    (roomId === undefined || roomId === null || (typeof roomId === 'string' && roomId.length > 0)) &&
    (seq === undefined || (Number.isInteger(seq) && (seq as number) > 0));
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
    ...(seq === undefined ? {} : { seq: seq as number }),
    payload: payload as string,
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

function prepareRoom(roomId: string | null, events: RoomEvent[], cursor: CursorItem | null): PreparedRoom {
  // The messages in seq order, each in the place one of them held in the queue's order.
  const sorted = events
    .filter((e) => e.seq !== undefined)
    .sort((a, b) => (a.seq as number) - (b.seq as number));
  let next = 0;
  const ordered = events.map((e) => (e.seq === undefined ? e : (sorted[next++] as RoomEvent)));
  const frames: Frame[] = [];
  let run: SeqPayload[] = [];
  const endRun = () => {
    if (roomId !== null && run.length > 0) frames.push(...batchFrames(roomId, run));
    run = [];
  };
  for (const event of ordered) {
    if (event.seq !== undefined) {
      run.push({ seq: event.seq, payload: event.payload });
      continue;
    }
    endRun();
    frames.push({ payload: event.payload, lastSeq: 0, messages: 0 });
  }
  endRun();
  if (roomId === null) return { roomId, keys: [EVERYONE], scan: true, frames, cursor: null };
  // A cycle's presence changes and read positions: one frame each per member (coalescing.ts).
  const coalesced = coalesceRoomState(roomId, frames);
  return {
    roomId,
    // A room whose every event was posted ahead has nothing to post: no key is Queried, only its cursor saved.
    keys: coalesced.length > 0 ? roomIndexKeys(roomId) : [],
    scan: false,
    frames: coalesced,
    cursor,
  };
}
