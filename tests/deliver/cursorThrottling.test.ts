import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCursorStore } from '#deliver/dynamoCursor';
import { prepareRooms } from '#deliver/prepare';

/**
 * A room's fan-out reads under DynamoDB throttling, call by call, against the product's store (DynamoCursorStore)
 * over a fake client that throttles the calls named, as DynamoDB answers a hot partition: a
 * ProvisionedThroughputExceededException after the SDK's own retries. The cursor decides what was posted, the log
 * what is to post: a read given up on would post a room's messages again or pass them, so each is read again through
 * seconds of throttling, and a room still unreadable is handed back to the queue, not guessed at.
 */

const ROOM = 'ROOM1';

function throttled(): Error {
  const error = new Error('The level of configured provisioned throughput for the table was exceeded.');
  error.name = 'ProvisionedThroughputExceededException';
  return error;
}

const frame = (seq: number) => ({
  roomId: ROOM,
  seq,
  messageId: `m-${seq}`,
  username: 'alice',
  text: `t${seq}`,
  sentAt: '2026-11-27T00:00:00.000Z',
});

/**
 * A DynamoDB client over a room whose cursor says seq 21 was posted and whose log holds 21 and 22: its cursor
 * GetItem is throttled `getThrottles` times and its Query `queryThrottles` times.
 */
function dbThrottling(opts: { getThrottles: number; queryThrottles?: number }) {
  const calls = { cursor: 0, query: 0 };
  let gets = opts.getThrottles;
  let queries = opts.queryThrottles ?? 0;
  const db = {
    send: async (command: unknown) => {
      if (command instanceof GetCommand) {
        if (command.input.TableName === 'Rooms') return { Item: { roomId: ROOM, seq: 22 } };
        calls.cursor++;
        if (gets-- > 0) throw throttled();
        return { Item: { limitKey: `fanout-cursor#${ROOM}`, high: 21, version: 3 } };
      }
      if (command instanceof QueryCommand) {
        calls.query++;
        if (queries-- > 0) throw throttled();
        const after = Number(command.input.ExpressionAttributeValues?.[':after']);
        return { Items: [frame(21), frame(22)].filter((m) => m.seq > after) };
      }
      // The room's sleep once everything is posted: its seq is still 22.
      if (command instanceof UpdateCommand) return {};
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  };
  return { db, calls };
}

/** The store as Deliver wires it, with pauses that take no time (each is recorded). */
function storeOver(db: unknown, pauses: number[] = []) {
  return new DynamoCursorStore(
    db as ConstructorParameters<typeof DynamoCursorStore>[0],
    { limits: 'Limits', messages: 'Messages', rooms: 'Rooms' },
    86_400,
    { publish: async () => undefined },
    { pause: async (ms) => void pauses.push(ms), random: () => 1 },
  );
}

const wake = (seq: number) => ({
  messageId: `q-${seq}`,
  body: JSON.stringify({ roomId: ROOM, seq, messageId: `wake:${ROOM}:${seq}` }),
});

/** The seqs a room's members are posted, in order, whatever frames carry them. */
function postedSeqs(prepared: Awaited<ReturnType<typeof prepareRooms>>): number[] {
  return (prepared.rooms[0]?.frames ?? []).flatMap((f) => {
    const parsed = JSON.parse(f.payload) as { seq?: number; messages?: { seq: number }[] };
    return parsed.messages ? parsed.messages.map((m) => m.seq) : parsed.seq === undefined ? [] : [parsed.seq];
  });
}

it('a cursor read throttled past the SDK retries is read again, so a seq already posted is not posted twice', async () => {
  const { db, calls } = dbThrottling({ getThrottles: 2 });
  const pauses: number[] = [];
  const prepared = await prepareRooms([wake(22)], storeOver(db, pauses));
  expect(postedSeqs(prepared)).toEqual([22]);
  expect(calls.cursor).toBe(3);
  expect(pauses).toHaveLength(2);
  // The cursor saved after the posts moves on from what was read: version 3 read, 4 written.
  expect(prepared.rooms[0]?.cursor).toMatchObject({ high: '22', read: '3', next: '4' });
});

it('a log Query throttled past the SDK retries is read again, and posts what it then finds', async () => {
  const { db, calls } = dbThrottling({ getThrottles: 0, queryThrottles: 3 });
  const prepared = await prepareRooms([wake(22)], storeOver(db));
  expect(postedSeqs(prepared)).toEqual([22]);
  expect(calls.query).toBe(4);
});

it('a room whose cursor stays unreadable through every try is handed back to the queue, nothing posted for it', async () => {
  const { db } = dbThrottling({ getThrottles: 100 });
  const pauses: number[] = [];
  const prepared = await prepareRooms([wake(22)], storeOver(db, pauses));
  expect(prepared.rooms).toEqual([]);
  expect(prepared.summary.batchItemFailures).toEqual([{ itemIdentifier: 'q-22' }]);
  // The pauses stay within a few seconds of Deliver's 30 s.
  expect(pauses.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
});

it('a failure that is no throttle is not retried: the room is handed back at once', async () => {
  let calls = 0;
  const db = {
    send: async () => {
      calls++;
      const error = new Error('Requested resource not found');
      error.name = 'ResourceNotFoundException';
      throw error;
    },
  };
  const prepared = await prepareRooms([wake(22)], storeOver(db));
  expect(calls).toBe(1);
  expect(prepared.summary.batchItemFailures).toEqual([{ itemIdentifier: 'q-22' }]);
});
