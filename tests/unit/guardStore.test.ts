import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGuardStore } from '../../functions/shared/adapters/dynamoGuard';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * The frame counter on the connection item, against the local DynamoDB (dynalite): the frames of one connection
 * run in parallel (API Gateway invokes a route per frame), and the count must admit exactly `limit` per window
 * however they interleave, the first frames of a window included. The join-guess bucket of a source must count
 * every failed join however many arrive at once.
 */
let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let connectionsTable: string;
let store: DynamoGuardStore;
let guesses: DynamoGuardStore;
let n = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
  connectionsTable = tables.table('ConnectionsTable');
  store = new DynamoGuardStore(db, connectionsTable, undefined);
  guesses = new DynamoGuardStore(db, connectionsTable, tables.table('LimitsTable'));
});

afterAll(async () => {
  await tables.close();
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

const admitted = (results: ({ admitted: boolean } | undefined)[]) =>
  results.filter((r) => r?.admitted).length;

it('admits both of two frames that open a window together', async () => {
  const id = await connection();
  const results = await Promise.all([store.countFrame(id, 1, 30), store.countFrame(id, 1, 30)]);
  expect(admitted(results)).toBe(2);
});

it('admits exactly the limit of a burst, in a new window and in the next one', async () => {
  const id = await connection();
  for (const window of [7, 8]) {
    const results = await Promise.all(Array.from({ length: 12 }, () => store.countFrame(id, window, 5)));
    expect(admitted(results)).toBe(5);
    // A refusal still returns the connection, so the handler knows it exists.
    expect(results.every((r) => r?.connection.connectionId === id)).toBe(true);
  }
});

it('answers undefined for a connection that does not exist', async () => {
  await expect(store.countFrame('nobody', 1, 30)).resolves.toBeUndefined();
});

describe('join-guess buckets', () => {
  const interval = 72_000;
  const now = Date.parse('2026-11-22T10:00:00Z');

  it('is full before its first failed join, and counts one spend from now', async () => {
    await expect(guesses.guessesFullAt('198.51.100.1')).resolves.toBeUndefined();
    await expect(guesses.spendGuess('198.51.100.1', now, interval)).resolves.toBe(now + interval);
    await expect(guesses.guessesFullAt('198.51.100.1')).resolves.toBe(now + interval);
  });

  it('loses none of 25 failed joins that arrive at once, on a new bucket and on one that is full again', async () => {
    for (const start of [now, now + 100 * interval]) {
      await Promise.all(
        Array.from({ length: 25 }, () => guesses.spendGuess('198.51.100.2', start, interval)),
      );
      await expect(guesses.guessesFullAt('198.51.100.2')).resolves.toBe(start + 25 * interval);
    }
  });

  it('keeps the item until the bucket is full again, however far spends have taken it', async () => {
    await Promise.all(Array.from({ length: 10 }, () => guesses.spendGuess('198.51.100.3', now, interval)));
    const { Item } = await db.send(
      new GetCommand({ TableName: tables.table('LimitsTable'), Key: { limitKey: 'join#198.51.100.3' } }),
    );
    expect(Item?.ttl).toBe(Math.ceil((now + 10 * interval) / 1000));
  });
});
