import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoCursorStore } from '#deliver/dynamoCursor';
import { prepareReadingAhead } from '#deliver/prepare';

/**
 * A room's fan-out under DynamoDB throttling, call by call: the exact sequence that posted seq 21 twice to every member
 * of a room in the throttling fault test (tests/reliability/faults.faults.ts). Execution A read seq 21 ahead and saved
 * the cursor { high 21, skip [21] }; execution B gets seq 21's own event with seq 22, and its read of the cursor
 * (one GetItem, strongly consistent) is throttled. Without the cursor Prepare cannot know 21 was posted, so every
 * member got it again. The fake below throttles only the calls named, as DynamoDB answers a hot partition: a
 * ProvisionedThroughputExceededException after the SDK's own retries.
 */

const ROOM = 'ROOM1';
const NOW = 1_800_000_000;

function throttled(): Error {
  const error = new Error('The level of configured provisioned throughput for the table was exceeded.');
  error.name = 'ProvisionedThroughputExceededException';
  return error;
}

/** A DynamoDB client whose cursor GetItem is throttled `getThrottles` times and whose Query `queryThrottles` times. */
function dbThrottling(opts: { getThrottles: number; queryThrottles?: number }) {
  const calls = { get: 0, query: 0 };
  let gets = opts.getThrottles;
  let queries = opts.queryThrottles ?? 0;
  const db = {
    send: async (command: unknown) => {
      if (command instanceof GetCommand) {
        calls.get++;
        if (gets-- > 0) throw throttled();
        // Execution A's save: seq 21 was read ahead and posted.
        return {
          Item: {
            limitKey: `fanout-cursor#${ROOM}`,
            high: 21,
            skip: JSON.stringify({ '21': NOW - 5 }),
            version: 3,
          },
        };
      }
      if (command instanceof QueryCommand) {
        calls.query++;
        if (queries-- > 0) throw throttled();
        return { Items: [] };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  };
  return { db, calls };
}

/** The store as Deliver wires it, with pauses that take no time (each is recorded). */
function storeOver(db: unknown, pauses: number[] = []) {
  return new DynamoCursorStore(
    db as ConstructorParameters<typeof DynamoCursorStore>[0],
    { limits: 'Limits', messages: 'Messages' },
    86_400,
    { pause: async (ms) => void pauses.push(ms), random: () => 1 },
  );
}

const record = (seq: number) => ({
  messageId: `q-${seq}`,
  body: JSON.stringify({
    roomId: ROOM,
    seq,
    messageId: `m-${seq}`,
    payload: JSON.stringify({ type: 'message', roomId: ROOM, seq, messageId: `m-${seq}`, text: `t${seq}` }),
  }),
});

/** The seqs a room's members are posted, in order, whatever frames carry them. */
function postedSeqs(prepared: Awaited<ReturnType<typeof prepareReadingAhead>>): number[] {
  return (prepared.rooms[0]?.frames ?? []).flatMap((frame) => {
    const parsed = JSON.parse(frame.payload) as { seq?: number; messages?: { seq: number }[] };
    return parsed.messages ? parsed.messages.map((m) => m.seq) : parsed.seq === undefined ? [] : [parsed.seq];
  });
}

it('a cursor read throttled past the SDK retries is read again, so a seq posted ahead is not posted twice', async () => {
  const { db, calls } = dbThrottling({ getThrottles: 2 });
  const pauses: number[] = [];
  const prepared = await prepareReadingAhead([record(21), record(22)], storeOver(db, pauses), NOW);
  expect(postedSeqs(prepared)).toEqual([22]);
  expect(calls.get).toBe(3);
  expect(pauses).toHaveLength(2);
  // The cursor saved after the posts moves on from what B read: version 3, 21's skip entry spent.
  expect(prepared.rooms[0]?.cursor).toMatchObject({ high: '22', skip: '{}', read: '3', next: '4' });
});

it('a read-ahead Query throttled past its tries still drops the seqs posted ahead, and reads nothing ahead', async () => {
  const { db, calls } = dbThrottling({ getThrottles: 0, queryThrottles: 100 });
  const prepared = await prepareReadingAhead([record(21), record(22)], storeOver(db), NOW);
  expect(postedSeqs(prepared)).toEqual([22]);
  expect(calls.query).toBeGreaterThan(1);
  expect(prepared.rooms[0]?.cursor).toMatchObject({ high: '22', skip: '{}', read: '3' });
});

it('a cursor that stays unreadable through every try: the batch goes as it came (at least once, never lost)', async () => {
  const { db } = dbThrottling({ getThrottles: 100 });
  const pauses: number[] = [];
  const prepared = await prepareReadingAhead([record(21), record(22)], storeOver(db, pauses), NOW);
  // Nothing is dropped that might not have been posted; the member keeps one copy per seq (docs/RELIABILITY.md).
  expect(postedSeqs(prepared)).toEqual([21, 22]);
  expect(prepared.rooms[0]?.cursor).toBeNull();
  // The pauses stay within a few seconds of Deliver's 30 s.
  expect(pauses.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5_000);
});

it('a failure that is no throttle is not retried', async () => {
  let gets = 0;
  const db = {
    send: async () => {
      gets++;
      const error = new Error('Requested resource not found');
      error.name = 'ResourceNotFoundException';
      throw error;
    },
  };
  const prepared = await prepareReadingAhead([record(21), record(22)], storeOver(db), NOW);
  expect(gets).toBe(1);
  expect(postedSeqs(prepared)).toEqual([21, 22]);
});
