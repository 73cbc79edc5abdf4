import { prepareRooms } from '#deliver/prepare';
import {
  type Clock,
  CYCLE_EVENTS,
  HOLE_PASS_MS,
  type LogEntry,
  type LogStore,
  type RoomCursor,
  type RoomHead,
  readRoom,
  WAKE_TICK_MS,
} from '#deliver/roomLog';

/**
 * The fan-out's read of a room's log (deliver/roomLog.ts), against an in-memory log whose seqs a test stores while
 * the reader waits: what a member is posted is the log's order, every seq once, none left behind for the room's next
 * message, none posted before a seq still being stored.
 */

const ROOM = 'R1';
const T0 = 1_800_000_000_000;
const tick = (at: number) => Math.floor(at / WAKE_TICK_MS);

/** A room's log, counter and cursor; `onPoll` runs each time the reader waits (a test's sender storing meanwhile). */
function room(opts: { cursor?: number } = {}) {
  const log = new Map<number, LogEntry>();
  const head: RoomHead = { seq: 0 };
  let cursor: RoomCursor | undefined =
    opts.cursor === undefined ? undefined : { high: opts.cursor, version: 1 };
  const clock = { t: T0 };
  const polls: number[] = [];
  let onPoll: (n: number) => void = () => undefined;
  const reads = { storedAfter: 0 };
  const store: LogStore = {
    cursor: async () => cursor,
    head: async () => ({ ...head }),
    storedAfter: async (_r, after, limit) => {
      reads.storedAfter++;
      return [...log.values()]
        .filter((e) => e.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit);
    },
    stored: async (_r, seqs) => [...log.values()].filter((e) => seqs.includes(e.seq)),
    itemOf: (roomId, high, read, nowSeconds) => ({
      key: `fanout-cursor#${roomId}`,
      high: String(high),
      read: String(read?.version ?? 0),
      next: String((read?.version ?? 0) + 1),
      ttl: String(nowSeconds + 60),
    }),
  };
  const testClock: Clock = {
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
      polls.push(ms);
      onPoll(polls.length);
    },
  };
  /** A seq taken at `at` (the counter moves), not yet stored. */
  const take = (at = clock.t) => {
    head.seq += 1;
    head.seqAt = at;
    return head.seq;
  };
  const store1 = (seq: number) => log.set(seq, { seq, payload: JSON.stringify({ type: 'message', seq }) });
  return {
    store,
    clock: testClock,
    take,
    /** Takes and stores the next seq. */
    send: (at = clock.t) => store1(take(at)) && head.seq,
    put: store1,
    gap: (seq: number) => log.set(seq, { seq }),
    setCursor: (high: number) => {
      cursor = { high, version: (cursor?.version ?? 0) + 1 };
    },
    onPoll: (f: (n: number) => void) => {
      onPoll = f;
    },
    polls,
    reads,
    now: () => clock.t,
  };
}

const seqs = (entries: LogEntry[]) => entries.map((e) => e.seq);

it('posts everything stored after the cursor in seq order, however many messages one wake stands for', async () => {
  const r = room({ cursor: 0 });
  for (let i = 0; i < 30; i++) r.send();
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect(read.save?.high).toBe('30');
  expect(read.more).toBe(false);
});

it('waits for a seq still being stored, then posts it in its place: never after a later one', async () => {
  const r = room({ cursor: 0 });
  r.send();
  const second = r.take();
  r.send();
  // The sender of seq 2 stores it while the reader waits.
  r.onPoll((n) => n === 3 && r.put(second));
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1, 3] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([1, 2, 3]);
  expect(r.polls).toHaveLength(3);
});

it('passes a seq never stored after watching it HOLE_PASS_MS, and posts what follows it', async () => {
  const r = room({ cursor: 0 });
  r.send();
  r.take();
  r.send();
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1, 3] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([1, 3]);
  expect(read.save?.high).toBe('3');
  const waited = r.polls.reduce((a, b) => a + b, 0);
  expect(waited).toBeGreaterThanOrEqual(HOLE_PASS_MS);
  expect(waited).toBeLessThan(HOLE_PASS_MS + 200);
});

it('passes a gap marker at once', async () => {
  const r = room({ cursor: 0 });
  r.send();
  r.gap(r.take());
  r.send();
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1, 3] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([1, 2, 3]);
  expect(r.polls).toHaveLength(0);
});

it('waits for the seqs of its own wake tick taken after the last one stored, so none waits for the room next message', async () => {
  const r = room({ cursor: 0 });
  r.send();
  // Taken in the waker's tick, stored after the reader's first read: no wake of its own will come.
  const late = r.take();
  r.onPoll((n) => n === 2 && r.put(late));
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([1, 2]);
  expect(read.save?.high).toBe('2');
});

it('does not wait for seqs of a later tick: their own waker wakes the room again', async () => {
  const r = room({ cursor: 0 });
  r.send();
  r.take(T0 + 5 * WAKE_TICK_MS);
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([1]);
  expect(read.save?.high).toBe('1');
  expect(r.polls).toHaveLength(0);
});

it('posts a seq below the cursor that a wake names (a straggler stored late) on its own', async () => {
  const r = room();
  for (let i = 0; i < 5; i++) r.send();
  r.setCursor(5);
  const read = await readRoom(ROOM, { newestTick: -1, seqs: [3] }, r.store, r.clock);
  expect(seqs(read.late)).toEqual([3]);
  expect(read.run).toEqual([]);
  expect(read.save).toBeNull();
});

it('reads a room new to the fan-out from the first seq its wakes name, never its older messages', async () => {
  const r = room();
  for (let i = 0; i < 40; i++) r.send();
  const read = await readRoom(ROOM, { newestTick: tick(T0), seqs: [39, 40] }, r.store, r.clock);
  expect(seqs(read.run)).toEqual([39, 40]);
});

it('takes at most a cycle and says there is more', async () => {
  const r = room({ cursor: 0 });
  for (let i = 0; i < CYCLE_EVENTS + 5; i++) r.send();
  const first = await readRoom(ROOM, { newestTick: tick(T0), seqs: [1] }, r.store, r.clock);
  expect(first.run).toHaveLength(CYCLE_EVENTS);
  expect(first.more).toBe(true);
  r.setCursor(CYCLE_EVENTS);
  const second = await readRoom(ROOM, { newestTick: tick(T0), seqs: [] }, r.store, r.clock);
  expect(seqs(second.run)).toEqual([201, 202, 203, 204, 205]);
  expect(second.more).toBe(false);
});

describe('Prepare over the log', () => {
  const record = (roomId: string, seq: number) => ({
    messageId: `q-${roomId}-${seq}`,
    body: JSON.stringify({ messageId: `wake:${roomId}:${seq}`, roomId, seq, tick: tick(T0) }),
  });

  it('hands back the records of a room whose log cannot be read, and delivers the other rooms of the batch', async () => {
    const r = room({ cursor: 0 });
    r.send();
    r.send();
    const store: LogStore = {
      ...r.store,
      storedAfter: async (roomId, after, limit) => {
        if (roomId === 'BROKEN') throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        return r.store.storedAfter(roomId, after, limit);
      },
    };
    const prepared = await prepareRooms(
      [record('BROKEN', 7), record(ROOM, 1), record('BROKEN', 8), record(ROOM, 2)],
      store,
    );
    expect(prepared.rooms.map((room) => room.roomId)).toEqual([ROOM]);
    expect(prepared.rooms[0]?.frames).toHaveLength(1);
    expect(prepared.summary.batchItemFailures).toEqual([
      { itemIdentifier: 'q-BROKEN-7' },
      { itemIdentifier: 'q-BROKEN-8' },
    ]);
  });

  it('keeps a presence change of the batch and puts the log after it', async () => {
    const r = room({ cursor: 0 });
    r.send();
    const presence = {
      messageId: 'q-p',
      body: JSON.stringify({
        messageId: 'p1',
        roomId: ROOM,
        payload: JSON.stringify({ type: 'presence', roomId: ROOM, username: 'bob', event: 'joined' }),
      }),
    };
    const prepared = await prepareRooms([presence, record(ROOM, 1)], r.store);
    const types = prepared.rooms[0]?.frames.map((f) => (JSON.parse(f.payload) as { type: string }).type);
    expect(types).toEqual(['presence', 'message']);
    expect(prepared.summary.batchItemFailures).toBeUndefined();
  });
});
