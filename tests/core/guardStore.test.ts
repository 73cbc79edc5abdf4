import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGuardStore, DynamoSourcePlaces } from '#core/limits/dynamoGuard';
import { templateTables } from '../helpers/templateTables';

/**
 * The frame counter on the connection item, against the local DynamoDB (dynalite): the frames of one connection
 * run in parallel (API Gateway invokes a route per frame), and the count must admit exactly `limit` per window
 * however they interleave, the first frames of a window included. The join-guess bucket of a source must count
 * every failed join however many arrive at once.
 */
const tables = templateTables();
let db: DynamoDBDocumentClient;
let connectionsTable: string;
let store: DynamoGuardStore;
let guesses: DynamoGuardStore;
let places: DynamoSourcePlaces;
let n = 0;

beforeAll(() => {
  db = tables.db;
  connectionsTable = tables.table('ConnectionsTable');
  store = new DynamoGuardStore(db, connectionsTable, undefined);
  guesses = new DynamoGuardStore(db, connectionsTable, tables.table('LimitsTable'));
  places = new DynamoSourcePlaces(db, tables.table('LimitsTable'));
});

async function connection(): Promise<string> {
  const connectionId = `conn-${++n}`;
  await db.send(
    new PutCommand({
      TableName: connectionsTable,
      Item: { connectionId, roomId: 'lobby', username: 'u', connectedAt: '2026-11-22T10:00:00.000Z' },
    }),
  );
  return connectionId;
}

/** The tables' client, keeping the name of each command it sends (`sent`): the writes a call costs. */
function countingClient() {
  const sent: string[] = [];
  const counting = {
    send: (command: object) => {
      sent.push(command.constructor.name);
      return db.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { counting, sent };
}

/** How many of these counts are within `limit`: the frames the guard admits. */
const admitted = (results: ({ count: number } | undefined)[], limit: number) =>
  results.filter((r) => r !== undefined && r.count <= limit).length;

it('admits both of two frames that open a window together', async () => {
  const id = await connection();
  const results = await Promise.all([store.countFrame(id, 1), store.countFrame(id, 1)]);
  expect(admitted(results, 30)).toBe(2);
});

it('counts every frame of a burst once, in a new window and in the next one, so exactly one is the first over', async () => {
  const id = await connection();
  for (const window of [7, 8]) {
    const results = await Promise.all(Array.from({ length: 12 }, () => store.countFrame(id, window)));
    expect(admitted(results, 5)).toBe(5);
    expect(results.map((r) => r?.count).sort((a = 0, b = 0) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    // Every frame, refused or not, returns the connection as plain values, so the handler knows it exists.
    expect(results.every((r) => r?.connection.connectionId === id)).toBe(true);
  }
});

it('costs a frame over the limit one write, and returns its connection as plain values', async () => {
  const id = await connection();
  for (let i = 0; i < 5; i++) await store.countFrame(id, 3);
  const { counting, sent } = countingClient();
  const watched = new DynamoGuardStore(counting, connectionsTable, undefined);
  const over = await watched.countFrame(id, 3);
  expect(over?.count).toBe(6);
  expect(sent).toEqual(['UpdateCommand']);
  // A frame of the window before the stored one (two frames crossed the window's end in different functions) is one
  // more in the stored window: the failed write names it, a second write counts it.
  sent.length = 0;
  const behind = await watched.countFrame(id, 2);
  expect(sent).toEqual(['UpdateCommand', 'UpdateCommand']);
  expect(behind?.count).toBe(7);
  expect(behind?.connection.connectionId).toBe(id);
});

it('admits the frame that crossed a window end behind another of its connection, and counts it in the new window', async () => {
  const id = await connection();
  await store.countFrame(id, 40);
  await store.countFrame(id, 41);
  const crossed = await store.countFrame(id, 40);
  expect(crossed?.count).toBe(2);
  await expect(store.countFrame(id, 41)).resolves.toMatchObject({ count: 3 });
});

it('marks a connection as closing, seen by its next frame count, and makes no item for one that is gone', async () => {
  const id = await connection();
  await store.markClosing(id);
  expect((await store.countFrame(id, 1))?.connection.closing).toBe(true);
  await store.markClosing('gone');
  const { Item } = await db.send(
    new GetCommand({ TableName: connectionsTable, Key: { connectionId: 'gone' } }),
  );
  expect(Item).toBeUndefined();
});

it('answers undefined for a connection that does not exist', async () => {
  await expect(store.countFrame('nobody', 1)).resolves.toBeUndefined();
});

describe('join-guess buckets', () => {
  const interval = 72_000;
  const now = Date.parse('2026-11-22T10:00:00Z');

  const fullAt = async (bucket: string) =>
    (
      await db.send(
        new GetCommand({ TableName: tables.table('LimitsTable'), Key: { limitKey: `join#${bucket}` } }),
      )
    ).Item?.fullAt as number | undefined;

  it('takes no more than the bucket holds from 25 joins at once, and takes nothing from an empty bucket', async () => {
    const taken = await Promise.all(
      Array.from({ length: 25 }, () => guesses.takeGuess('198.51.100.2', now, interval, 10)),
    );
    expect(taken.filter(Boolean).length).toBe(10);
    expect(await fullAt('198.51.100.2')).toBe(now + 10 * interval);
    await expect(guesses.takeGuess('198.51.100.2', now, interval, 10)).resolves.toBe(false);
    expect(await fullAt('198.51.100.2')).toBe(now + 10 * interval);
  });

  it('gets a guess back for a join that did not fail, and gives nothing to a bucket it has no item for', async () => {
    await expect(guesses.takeGuess('198.51.100.3', now, interval, 2)).resolves.toBe(true);
    await expect(guesses.takeGuess('198.51.100.3', now, interval, 2)).resolves.toBe(true);
    await expect(guesses.takeGuess('198.51.100.3', now, interval, 2)).resolves.toBe(false);
    await guesses.giveGuessBack('198.51.100.3', interval);
    await expect(guesses.takeGuess('198.51.100.3', now, interval, 2)).resolves.toBe(true);
    await guesses.giveGuessBack('198.51.100.4', interval);
    expect(await fullAt('198.51.100.4')).toBeUndefined();
  });

  it('never refuses a join of a bucket with guesses left while other joins take and give back between its writes', async () => {
    // A join's clock is its function's start, later than the others': the bucket it reads as idle is busy (another
    // join's take) by its next write, and back below its clock (that join's give-back) by the one after. Each write
    // it tries must follow what the last one found, however long the churn lasts.
    const bucket = '198.51.100.5';
    const others = new DynamoGuardStore(db, connectionsTable, tables.table('LimitsTable'));
    await others.takeGuess(bucket, now, 3_600, 1_000);
    await others.giveGuessBack(bucket, 3_600);
    const between = [
      () => others.takeGuess(bucket, now, 3_600, 1_000),
      () => others.giveGuessBack(bucket, 3_600),
      () => others.takeGuess(bucket, now, 3_600, 1_000),
      () => others.giveGuessBack(bucket, 3_600),
    ];
    let writes = 0;
    const churned = {
      send: async (command: unknown) => {
        if (writes++ > 0) await between.shift()?.();
        return db.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const late = new DynamoGuardStore(churned, connectionsTable, tables.table('LimitsTable'));
    await expect(late.takeGuess(bucket, now + 100, 3_600, 1_000)).resolves.toBe(true);
    expect(await fullAt(bucket)).toBe(now + 100 + 3_600);
  });
});

describe('strikes', () => {
  it('count within a window, start again at 1 in a later one, and lose none of a burst', async () => {
    const id = await connection();
    const burst = await Promise.all(Array.from({ length: 12 }, () => store.strike(id, 5)));
    expect([...burst].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await expect(store.strike(id, 6)).resolves.toBe(1);
    await expect(store.strike(id, 6)).resolves.toBe(2);
    // A strike for the window before (its function's clock a little behind another's) counts in the current one.
    await expect(store.strike(id, 5)).resolves.toBe(3);
  });

  it('write nothing for a connection that does not exist', async () => {
    await expect(store.strike('nobody', 1)).resolves.toBe(0);
    const { Item } = await db.send(
      new GetCommand({ TableName: connectionsTable, Key: { connectionId: 'nobody' } }),
    );
    expect(Item).toBeUndefined();
  });
});

describe('lobby-post buckets', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  const interval = 3000;

  it('let exactly the limit of a burst through, refuse the rest without taking from it, and refill', async () => {
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => guesses.takeLobbyPost('198.51.100.9', now, interval, 5)),
    );
    expect(burst.filter(Boolean).length).toBe(5);
    // The refused posts took nothing: one interval later exactly one more post fits.
    await expect(guesses.takeLobbyPost('198.51.100.9', now + interval, interval, 5)).resolves.toBe(true);
    await expect(guesses.takeLobbyPost('198.51.100.9', now + interval, interval, 5)).resolves.toBe(false);
    // Another source has its own bucket.
    await expect(guesses.takeLobbyPost('198.51.100.10', now, interval, 5)).resolves.toBe(true);
    // Full again once it has been idle for the whole window.
    const later = now + 10 * interval;
    const refilled = await Promise.all(
      Array.from({ length: 6 }, () => guesses.takeLobbyPost('198.51.100.9', later, interval, 5)),
    );
    expect(refilled.filter(Boolean).length).toBe(5);
  });
});

describe('connection places of a source', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');

  it('let exactly the cap of concurrent handshakes in, the first ones of a source included', async () => {
    const claims = await Promise.all(
      Array.from({ length: 9 }, (_, i) => places.claim('198.51.100.20', `c${i}`, now, 4, 1)),
    );
    expect(claims.filter((c) => c.claimed).length).toBe(4);
    // Each refusal carries the places it found full.
    for (const refused of claims.filter((c) => !c.claimed))
      expect(Object.keys((refused as { places: object }).places)).toHaveLength(4);
  });

  it('refuse a handshake at the cap with one write, and give a place back at release', async () => {
    expect(await places.claim('198.51.100.21', 'a', now, 2, 1)).toEqual({ claimed: true });
    expect(await places.claim('198.51.100.21', 'b', now, 2, 1)).toEqual({ claimed: true });
    const { counting, sent } = countingClient();
    const watched = new DynamoSourcePlaces(counting, tables.table('LimitsTable'));
    expect(await watched.claim('198.51.100.21', 'c', now, 2, 1)).toEqual({
      claimed: false,
      places: { a: now, b: now },
    });
    expect(sent).toEqual(['UpdateCommand']);
    await places.release('198.51.100.21', ['a']);
    expect(await places.claim('198.51.100.21', 'c', now + 1, 2, 1)).toEqual({ claimed: true });
    // A place found open gets a later time, unless it changed meanwhile.
    await places.touch('198.51.100.21', 'b', now, now + 5);
    await places.touch('198.51.100.21', 'c', now, now + 5);
    expect(await places.claim('198.51.100.21', 'd', now, 2, 1)).toEqual({
      claimed: false,
      places: { b: now + 5, c: now + 1 },
    });
    await places.release('198.51.100.22', ['x']);
    const { Item } = await db.send(
      new GetCommand({
        TableName: tables.table('LimitsTable'),
        Key: { limitKey: 'connections#198.51.100.22' },
      }),
    );
    expect(Item).toBeUndefined();
  });
});
