import {
  type AheadEvent,
  type CursorItem,
  type CursorSave,
  type CursorStore,
  MAX_SKIP,
  READ_AHEAD_BYTES,
  type RoomCursor,
  readAhead,
  SKIP_SECONDS,
  type StoredEvent,
} from '#deliver/readAhead';

/** Read-ahead's rules on a room's cursor and stored events (the machine test, tests/statemachine/readAhead.test.ts, runs them whole). */

const NOW = 1_800_000_000;
const ROOM = 'ROOM1';

function storeOf(cursor: RoomCursor | undefined, stored: StoredEvent[]) {
  const queries: number[] = [];
  const store: CursorStore = {
    cursor: async () => cursor,
    storedAfter: async (_roomId, afterSeq, limit) => {
      queries.push(afterSeq);
      return stored.filter((e) => e.seq > afterSeq).slice(0, limit);
    },
    itemOf: (next: CursorSave): CursorItem => ({
      key: next.roomId,
      high: String(next.high),
      skip: JSON.stringify(next.skip),
      read: String(next.version),
      next: String(next.version + 1),
      ttl: '0',
    }),
  };
  return { store, queries };
}

const message = (seq: number, text = `m${seq}`): AheadEvent => ({
  roomId: ROOM,
  messageId: `id-${seq}`,
  seq,
  payload: JSON.stringify({ type: 'message', roomId: ROOM, seq, text }),
});
const stored = (seq: number, text = `m${seq}`): StoredEvent => ({ seq, payload: message(seq, text).payload });
const seqsOf = (events: AheadEvent[]) => events.map((e) => e.seq ?? e.messageId);

it('passes a gap marker (a seq never stored): the cursor goes past it and waits for no event of it', async () => {
  const { store } = storeOf(undefined, [stored(3), { seq: 4 }, stored(5)]);
  const { events, cursor } = await readAhead(ROOM, [message(1), message(2)], store, NOW);
  expect(seqsOf(events)).toEqual([1, 2, 3, 5]);
  expect(cursor).toMatchObject({ high: 5, version: 0 });
  expect(Object.keys(cursor?.skip ?? {})).toEqual(['3', '5']);
});

it(`forgets a skip entry whose event never came within ${SKIP_SECONDS} s, and posts that seq if it comes later`, async () => {
  const old = { high: 9, skip: { '7': NOW - SKIP_SECONDS - 1, '8': NOW - 10 }, version: 4 };
  const { store } = storeOf(old, []);
  const { events, cursor } = await readAhead(ROOM, [message(7)], store, NOW);
  expect(seqsOf(events)).toEqual([7]);
  expect(cursor).toEqual({ roomId: ROOM, high: 9, skip: { '8': NOW - 10 }, version: 4 });
});

it('drops only the events posted ahead; a presence change and a later message go as they are', async () => {
  const { store, queries } = storeOf({ high: 6, skip: { '5': NOW, '6': NOW }, version: 2 }, []);
  const presence: AheadEvent = { roomId: ROOM, messageId: 'p-1', payload: '{"type":"presence"}' };
  const { events, cursor } = await readAhead(
    ROOM,
    [message(5), presence, message(6), message(7)],
    store,
    NOW,
  );
  expect(seqsOf(events)).toEqual(['p-1', 7]);
  // Read ahead from above the highest seq posted, never from the batch's own.
  expect(queries).toEqual([7]);
  expect(cursor).toEqual({ roomId: ROOM, high: 7, skip: {}, version: 2 });
});

it('reads no more than READ_AHEAD_BYTES of payloads ahead, so ten rooms stay within the state limit', async () => {
  const long = 'x'.repeat(3_000);
  const { store } = storeOf(
    undefined,
    Array.from({ length: 30 }, (_, i) => stored(3 + i, long)),
  );
  const { events } = await readAhead(ROOM, [message(1), message(2)], store, NOW);
  const ahead = events.filter((e) => (e.seq ?? 0) > 2);
  expect(ahead.reduce((n, e) => n + e.payload.length, 0)).toBeLessThanOrEqual(READ_AHEAD_BYTES);
  expect(ahead.length).toBe(Math.floor(READ_AHEAD_BYTES / message(3, long).payload.length));
});

it('saves nothing for a batch without messages', async () => {
  const { store, queries } = storeOf({ high: 3, skip: {}, version: 1 }, [stored(4)]);
  const presence: AheadEvent = { roomId: ROOM, messageId: 'p-2', payload: '{"type":"presence"}' };
  expect(await readAhead(ROOM, [presence], store, NOW)).toEqual({
    events: [presence],
    cursor: null,
    save: null,
  });
  expect(queries).toEqual([]);
});

it('posts a batch as it came when the cursor cannot be read, rather than failing the execution', async () => {
  const { prepareReadingAhead } = await import('#deliver/prepare');
  const { store } = storeOf(undefined, [stored(3)]);
  store.cursor = async () => {
    throw Object.assign(new Error('Throughput exceeds the current capacity'), {
      name: 'ProvisionedThroughputExceededException',
    });
  };
  const record = (seq: number) => ({
    messageId: `r${seq}`,
    body: JSON.stringify({ messageId: `id-${seq}`, roomId: ROOM, seq, payload: message(seq).payload }),
  });
  const prepared = await prepareReadingAhead([record(1), record(2)], store, NOW);
  expect(prepared.rooms).toHaveLength(1);
  expect(prepared.rooms[0]?.frames.map((f) => [f.firstSeq, f.lastSeq])).toEqual([[1, 2]]);
  expect(prepared.rooms[0]?.cursor).toBeNull();
});

it(`pauses when ${MAX_SKIP} seqs posted ahead are not yet seen, so the cursor stays small in an overload`, async () => {
  const skip = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [String(100 + i), NOW]));
  const full = storeOf({ high: 100 + MAX_SKIP, skip: skip(MAX_SKIP), version: 9 }, [stored(700)]);
  const paused = await readAhead(ROOM, [message(1), message(2)], full.store, NOW);
  expect(full.queries).toEqual([]);
  expect(seqsOf(paused.events)).toEqual([1, 2]);
  // Room for 3 more: at most 3 are read.
  const near = storeOf(
    { high: 600, skip: skip(MAX_SKIP - 3), version: 9 },
    Array.from({ length: 10 }, (_, i) => stored(601 + i)),
  );
  const { events, cursor } = await readAhead(ROOM, [message(1), message(2)], near.store, NOW);
  expect(seqsOf(events)).toEqual([1, 2, 601, 602, 603]);
  expect(Object.keys(cursor?.skip ?? {})).toHaveLength(MAX_SKIP);
});
