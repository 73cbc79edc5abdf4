import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGuardStore } from '../../functions/shared/adapters/dynamoGuard';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * The frame counter on the connection item, against the local DynamoDB (dynalite): the frames of one connection
 * run in parallel (API Gateway invokes a route per frame), and the count must admit exactly `limit` per window
 * however they interleave, the first frames of a window included.
 */
let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let connectionsTable: string;
let store: DynamoGuardStore;
let n = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
  connectionsTable = tables.table('ConnectionsTable');
  store = new DynamoGuardStore(db, connectionsTable, undefined);
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
