import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { batchGetAll, batchGetMany, MAX_RETRIES, unprocessedPauseMs } from '#platform/aws/batchGet';

/**
 * Keys DynamoDB leaves unprocessed are asked for again after a growing, jittered pause, and never endlessly:
 * a busy partition is not hammered, and a partition that stays busy fails the step instead of spending its time.
 */

const TABLE = 'Connections';
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(db);
const keys = (...ids: string[]) => ids.map((connectionId) => ({ connectionId }));
const unprocessed = (...ids: string[]) => ({ [TABLE]: { Keys: keys(...ids) } });

afterEach(() => mock.reset());

it('returns every item, pausing before each retry of the unprocessed keys for longer each time', async () => {
  mock
    .on(BatchGetCommand)
    .resolvesOnce({ Responses: { [TABLE]: [{ connectionId: 'a' }] }, UnprocessedKeys: unprocessed('b', 'c') })
    .resolvesOnce({ Responses: { [TABLE]: [{ connectionId: 'b' }] }, UnprocessedKeys: unprocessed('c') })
    .resolvesOnce({ Responses: { [TABLE]: [{ connectionId: 'c' }] } });
  const pauses: number[] = [];
  const items = await batchGetAll(
    db,
    { TableName: TABLE, Keys: keys('a', 'b', 'c') },
    { sleep: async (ms) => void pauses.push(ms), random: () => 0.99 },
  );
  expect(items.map((item) => item.connectionId)).toEqual(['a', 'b', 'c']);
  expect(pauses).toEqual([49, 99]);
});

it('gives up after a bounded number of retries with a clear error, having waited at most a few seconds', async () => {
  mock.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] }, UnprocessedKeys: unprocessed('a') });
  const pauses: number[] = [];
  const error = await batchGetAll(
    db,
    { TableName: TABLE, Keys: keys('a') },
    { sleep: async (ms) => void pauses.push(ms), random: () => 0.999 },
  ).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toBe(`1 keys of ${TABLE} still unprocessed after ${MAX_RETRIES} retries`);
  expect(pauses).toHaveLength(MAX_RETRIES);
  expect(Math.max(...pauses)).toBeLessThanOrEqual(1_000);
  expect(pauses.reduce((a, b) => a + b, 0)).toBeLessThan(5_000);
});

it('draws each pause at random below its ceiling (full jitter), so retries of many callers spread out', () => {
  expect(unprocessedPauseMs(3, () => 0)).toBe(0);
  expect(unprocessedPauseMs(3, () => 0.5)).toBe(100);
  expect(unprocessedPauseMs(30, () => 0.999)).toBe(999);
});

it("reads any number of keys in requests of at most 100, DynamoDB's limit, returning every item", async () => {
  mock.on(BatchGetCommand).callsFake((input) => ({ Responses: { [TABLE]: input.RequestItems[TABLE].Keys } }));
  const ids = Array.from({ length: 250 }, (_, i) => `c${i}`);
  const items = await batchGetMany(db, { TableName: TABLE, Keys: keys(...ids) });
  expect(items.map((item) => item.connectionId)).toEqual(ids);
  const sizes = mock
    .commandCalls(BatchGetCommand)
    .map((call) => call.args[0].input.RequestItems?.[TABLE]?.Keys?.length);
  expect(sizes).toEqual([100, 100, 50]);
});
