import { prepareRooms } from '#deliver/prepare';
import {
  type Clock,
  CYCLE_EVENTS,
  HOLE_PASS_MS,
  type LogEntry,
  type LogStore,
  type RoomCursor,
  readRoom,
} from '#deliver/roomLog';

/**
 * The fan-out's read of a room's log (deliver/roomLog.ts), against an in-memory room whose senders take seqs and
 * store them while the reader works: what a member is posted is the log's order, every seq once; nothing is posted
 * past a seq still being stored; a seq never stored is fenced, so its sender cannot store it there later; and the
 * room is put to sleep only once every seq taken is posted, so no take is left without a wake.
 */

const ROOM = 'R1';
const T0 = 1_800_000_000_000;
const FAR = T0 + 60_000;

/** A room's log, counter, awake mark and cursor; `onPoll` runs each time the reader waits. */
function room(opts: { cursor?: number } = {}) {
  const log = new Map<number, LogEntry>();
  const counter = { seq: 0, awake: true as boolean };
  let cursor: RoomCursor | undefined =
    opts.cursor === undefined ? undefined : { high: opts.cursor, version: 1 };
  const clock = { t: T0 };
  const polls: number[] = [];
  const handOffs: number[] = [];
  const fenced: number[] = [];
  let onPoll: (n: number) => void = () => undefined;
  let onSleep: () => void = () => undefined;
  const store: LogStore = {
    cursor: async () => cursor,
    head: async () => ({ seq: counter.seq, removed: [] }),
    storedAfter: async (_r, after, limit) =>
      [...log.values()]
        .filter((e) => e.seq > after)
        .sort((a, b) => a.seq - b.seq)
        .slice(0, limit),
    fence: async (_r, seq) => {
      const there = log.get(seq);
      if (there) return there;
      log.set(seq, { seq });
      fenced.push(seq);
      return undefined;
    },
    sleep: async (_r, seq) => {
      onSleep();
      if (counter.seq !== seq) return false;
      counter.awake = false;
      return true;
    },
    handOff: async (_r, high) => {
      handOffs.push(high);
    },
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
  const take = () => ++counter.seq;
  const put = (seq: number) => {
    if (log.has(seq)) return false;
    log.set(seq, { seq, payload: JSON.stringify({ type: 'message', seq }) });
    return true;
  };
  return {
    store,
    clock: testClock,
    take,
    put,
    send: () => put(take()),
    counter,
    polls,
    handOffs,
    fenced,
    onPoll: (f: (n: number) => void) => {
      onPoll = f;
    },
    onSleep: (f: () => void) => {
      onSleep = f;
    },
    setCursor: (high: number) => {
      cursor = { high, version: (cursor?.version ?? 0) + 1 };
    },
  };
}

const seqs = (entries: LogEntry[]) => entries.map((e) => e.seq);

it('posts everything stored after the cursor in seq order, however many messages one wake stands for, then sleeps', async () => {
  const r = room({ cursor: 0 });
  for (let i = 0; i < 30; i++) r.send();
  const read = await readRoom(ROOM, [1], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect(read.save?.high).toBe('30');
  expect(read.more).toBe(false);
  expect(r.counter.awake).toBe(false);
});

it('posts what came before a seq still being stored, and reads again after the posts: never past it', async () => {
  const r = room({ cursor: 0 });
  r.send();
  const second = r.take();
  r.send();
  const first = await readRoom(ROOM, [1], r.store, FAR, r.clock);
  expect(seqs(first.run)).toEqual([1]);
  expect(first.more).toBe(true);
  expect(r.counter.awake).toBe(true);
  // Its sender stores it while the first cycle is posted.
  r.put(second);
  r.setCursor(1);
  const next = await readRoom(ROOM, [], r.store, FAR, r.clock);
  expect(seqs(next.run)).toEqual([2, 3]);
  expect(r.counter.awake).toBe(false);
});

it('with nothing to post, waits for a seq being stored and posts it in its place', async () => {
  const r = room({ cursor: 0 });
  const first = r.take();
  r.send();
  r.onPoll((n) => n === 3 && r.put(first));
  const read = await readRoom(ROOM, [2], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([1, 2]);
  expect(r.polls).toHaveLength(3);
});

it('fences a seq missing for HOLE_PASS_MS, so its sender cannot store it there afterwards, and posts what follows', async () => {
  const r = room({ cursor: 0 });
  const lost = r.take();
  r.send();
  const read = await readRoom(ROOM, [2], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([1, 2]);
  expect(read.run[0]?.payload).toBeUndefined();
  expect(r.fenced).toEqual([lost]);
  // The sender's late put finds the fence: it stores under a new seq instead (messages/sending.ts).
  expect(r.put(lost)).toBe(false);
  const waited = r.polls.reduce((a, b) => a + b, 0);
  expect(waited).toBeGreaterThanOrEqual(HOLE_PASS_MS);
  expect(waited).toBeLessThan(HOLE_PASS_MS + 200);
});

it('posts a seq stored at the moment it was to be fenced, in its place', async () => {
  const r = room({ cursor: 0 });
  const late = r.take();
  r.send();
  // Stored between the reader's last read and its fence.
  r.onPoll((n) => n * 50 >= HOLE_PASS_MS && r.put(late));
  const read = await readRoom(ROOM, [2], r.store, FAR, r.clock);
  expect(read.run.map((e) => [e.seq, e.payload !== undefined])).toEqual([
    [1, true],
    [2, true],
  ]);
});

it('does not sleep while a seq was taken after its read: it reads on, so that take is never left without a wake', async () => {
  const r = room({ cursor: 0 });
  r.send();
  // A send takes and stores a seq between the reader's read and its sleep: the sleep's condition fails.
  let once = true;
  r.onSleep(() => {
    if (once) r.send();
    once = false;
  });
  const read = await readRoom(ROOM, [1], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([1, 2]);
  expect(r.counter.awake).toBe(false);
});

it('hands a room still busy past its turn on to its next execution instead of reading on', async () => {
  const r = room({ cursor: 0 });
  for (let i = 0; i < CYCLE_EVENTS + 5; i++) r.send();
  const read = await readRoom(ROOM, [1], r.store, T0 - 1, r.clock);
  expect(read.run).toHaveLength(CYCLE_EVENTS);
  expect(read.more).toBe(false);
  expect(r.handOffs).toEqual([CYCLE_EVENTS]);
  expect(r.counter.awake).toBe(true);
});

it('reads a room new to the fan-out from the first seq its wakes name, never its older messages', async () => {
  const r = room();
  for (let i = 0; i < 40; i++) r.send();
  const read = await readRoom(ROOM, [39, 40], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([39, 40]);
});

it('takes at most a cycle and says there is more', async () => {
  const r = room({ cursor: 0 });
  for (let i = 0; i < CYCLE_EVENTS + 5; i++) r.send();
  const first = await readRoom(ROOM, [1], r.store, FAR, r.clock);
  expect(first.run).toHaveLength(CYCLE_EVENTS);
  expect(first.more).toBe(true);
  r.setCursor(CYCLE_EVENTS);
  const second = await readRoom(ROOM, [], r.store, FAR, r.clock);
  expect(seqs(second.run)).toEqual([201, 202, 203, 204, 205]);
  expect(second.more).toBe(false);
});

describe('Prepare over the log', () => {
  const record = (roomId: string, seq: number) => ({
    messageId: `q-${roomId}-${seq}`,
    body: JSON.stringify({ messageId: `wake:${roomId}:${seq}`, roomId, seq }),
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

it('fences every seq missing for HOLE_PASS_MS together, not one HOLE_PASS_MS after another', async () => {
  const r = room({ cursor: 0 });
  const lost = [r.take(), r.take(), r.take()];
  r.send();
  const read = await readRoom(ROOM, [4], r.store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([1, 2, 3, 4]);
  expect(r.fenced).toEqual(lost);
  const waited = r.polls.reduce((a, b) => a + b, 0);
  expect(waited).toBeLessThan(HOLE_PASS_MS + 200);
});

it("reads the room's key level from a head that saw the run's last seq: a member who joined before it was taken is Queried", async () => {
  const r = room({ cursor: 0 });
  r.send();
  let keyLevel = 1;
  let first = true;
  const store: LogStore = {
    ...r.store,
    head: async () => ({ seq: r.counter.seq, keyLevel, removed: [] }),
    // The log is read a moment after the head: meanwhile a join raises the level and a sender takes seq 2 and stores it.
    storedAfter: async (...args) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (first) {
        first = false;
        keyLevel = 2;
        r.send();
      }
      return r.store.storedAfter(...args);
    },
  };
  const read = await readRoom(ROOM, [1], store, FAR, r.clock);
  expect(seqs(read.run)).toEqual([1, 2]);
  expect(read.keyLevel).toBe(2);
});

it('a room with only presence news reads its key level with its head, and Queries that many keys', async () => {
  const r = room({ cursor: 0 });
  const store: LogStore = { ...r.store, head: async () => ({ seq: 0, keyLevel: 3, removed: [] }) };
  const body = JSON.stringify({
    messageId: 'p1',
    roomId: ROOM,
    payload: JSON.stringify({ type: 'presence' }),
  });
  const { rooms } = await prepareRooms([{ messageId: 'q1', body }], store);
  expect(rooms.map((p) => p.keys)).toEqual([[`${ROOM}#0`, `${ROOM}#1`, `${ROOM}#2`]]);
});
