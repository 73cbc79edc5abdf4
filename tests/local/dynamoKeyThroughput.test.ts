import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { localDynamo, startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Per-partition-key throughput of the local DynamoDB (docs/PARITY.md, "Per-partition-key throughput"): with the
 * limits scaled to 2% (20 WCU/s, 60 RCU/s per key), a key written or read faster is refused
 * ProvisionedThroughputExceededException and nothing is written, a hot index key refuses the base table's writes, a
 * transaction touching a hot key is cancelled whole, and the counts per key say which key was hot.
 */

const SCALE = 0.02;
const WCU = 1000 * SCALE;
const RCU = 3000 * SCALE;
const TABLE = 'keys-Items';
const INDEX = 'ByGroup';
const KEYS_INDEX = 'ByOwnerKeys';
const tables = [
  {
    TableName: TABLE,
    AttributeDefinitions: [
      { AttributeName: 'k', AttributeType: 'S' as const },
      { AttributeName: 'g', AttributeType: 'S' as const },
      { AttributeName: 'h', AttributeType: 'S' as const },
    ],
    KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' as const }],
    GlobalSecondaryIndexes: [
      {
        IndexName: INDEX,
        KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' as const }],
        Projection: { ProjectionType: 'ALL' as const },
      },
      {
        IndexName: KEYS_INDEX,
        KeySchema: [{ AttributeName: 'h', KeyType: 'HASH' as const }],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      },
    ],
    BillingMode: 'PAY_PER_REQUEST' as const,
  },
];

// No SDK retries: each refusal is seen as it is answered.
const local = localDynamo(
  { tables, keyLimitScale: SCALE, keyThroughputNow: () => clock },
  { maxAttempts: 1 },
);

/**
 * The per-key windows' clock, moved by the tests: every request of a burst falls in one second however slowly a
 * loaded machine sends it, and a second passes when a test says so.
 */
let clock = 1_000_000;
const aSecondLater = () => {
  clock += 1100;
};

/** Waits out every key's one-second window, so each test starts with full limits. */
beforeEach(async () => {
  aSecondLater();
  await local.dynamo.resetKeyStats();
});

const S = (s: string): AttributeValue => ({ S: s });
const outcomes = async (requests: Promise<unknown>[]) => {
  const settled = await Promise.allSettled(requests);
  const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  return { admitted: settled.length - refused.length, refused };
};
const addOne = (k: string) =>
  local.client.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: { k: S(k) },
      UpdateExpression: 'ADD n :one',
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }),
  );
const counter = async (k: string) =>
  Number(
    (
      await local.client.send(
        new GetItemCommand({ TableName: TABLE, Key: { k: S(k) }, ConsistentRead: true }),
      )
    ).Item?.n?.N ?? 0,
  );

test('one item written faster than its key allows is refused, and the refused writes change nothing', async () => {
  const { admitted, refused } = await outcomes(Array.from({ length: 2 * WCU }, () => addOne('hot')));
  expect(admitted).toBeLessThanOrEqual(WCU);
  expect(refused.length).toBeGreaterThanOrEqual(WCU);
  const [first] = refused;
  expect(first?.name).toBe('ProvisionedThroughputExceededException');
  expect((first as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
  expect((first as { ThrottlingReasons?: unknown }).ThrottlingReasons).toEqual([
    {
      reason: 'TableWriteKeyRangeThroughputExceeded',
      resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}`,
    },
  ]);
  expect(await counter('hot')).toBe(admitted);
});

test('the same writes spread over many keys are all admitted', async () => {
  const { admitted, refused } = await outcomes(
    Array.from({ length: 2 * WCU }, (_, i) => addOne(`spread-${i}`)),
  );
  expect(refused).toEqual([]);
  expect(admitted).toBe(2 * WCU);
});

test('a hot index key refuses writes to different base items, and a refused item is not written', async () => {
  const put = (i: number) =>
    local.client.send(new PutItemCommand({ TableName: TABLE, Item: { k: S(`member-${i}`), g: S('lobby') } }));
  const ids = Array.from({ length: 2 * WCU }, (_, i) => i);
  const settled = await Promise.allSettled(ids.map(put));
  const refusedIds = ids.filter((i) => settled[i]?.status === 'rejected');
  expect(refusedIds.length).toBeGreaterThanOrEqual(WCU);
  const reason = (settled[refusedIds[0] as number] as PromiseRejectedResult).reason as Error & {
    ThrottlingReasons?: { reason: string; resource: string }[];
  };
  expect(reason.name).toBe('ProvisionedThroughputExceededException');
  expect(reason.ThrottlingReasons?.[0]).toEqual({
    reason: 'IndexWriteKeyRangeThroughputExceeded',
    resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/index/${INDEX}`,
  });
  // The refused items are in neither the table nor the index.
  aSecondLater();
  for (const i of refusedIds.slice(0, 5)) {
    const got = await local.client.send(
      new GetItemCommand({ TableName: TABLE, Key: { k: S(`member-${i}`) } }),
    );
    expect(got.Item).toBeUndefined();
  }
  const indexed = await local.client.send(
    new QueryCommand({
      TableName: TABLE,
      IndexName: INDEX,
      KeyConditionExpression: 'g = :g',
      ExpressionAttributeValues: { ':g': S('lobby') },
    }),
  );
  expect(indexed.Count).toBe(ids.length - refusedIds.length);
});

test('a transaction touching a hot key is cancelled whole with ThrottlingError on that item', async () => {
  // The hot key's second is used up by single writes.
  await outcomes(Array.from({ length: WCU }, () => addOne('tx-hot')));
  const before = await counter('tx-hot');
  const error = await local.client
    .send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: TABLE, Item: { k: S('tx-cold'), n: { N: '1' } } } },
          {
            Update: {
              TableName: TABLE,
              Key: { k: S('tx-hot') },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      }),
    )
    .then(
      () => undefined,
      (e: Error) => e,
    );
  expect(error).toBeInstanceOf(TransactionCanceledException);
  expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
    'None',
    'ThrottlingError',
  ]);
  aSecondLater();
  expect(await counter('tx-cold')).toBe(0);
  expect(await counter('tx-hot')).toBe(before);
});

test('reads of one key faster than 3,000 RCU/s (scaled) are refused', async () => {
  const get = () =>
    local.client.send(
      new GetItemCommand({ TableName: TABLE, Key: { k: S('read-hot') }, ConsistentRead: true }),
    );
  const { admitted, refused } = await outcomes(Array.from({ length: 2 * RCU }, get));
  expect(admitted).toBeLessThanOrEqual(RCU);
  expect(refused[0]?.name).toBe('ProvisionedThroughputExceededException');
  expect((refused[0] as { ThrottlingReasons?: { reason: string }[] }).ThrottlingReasons?.[0]?.reason).toBe(
    'TableReadKeyRangeThroughputExceeded',
  );
});

test('the counts per key name the hot key, its writes, its refusals and its peak per second', async () => {
  const hot = await outcomes(Array.from({ length: 2 * WCU }, () => addOne('counted')));
  await Promise.all(Array.from({ length: 3 }, (_, i) => addOne(`calm-${i}`)));
  const [busiest, ...rest] = await local.dynamo.keyStats({ table: TABLE });
  expect(busiest).toMatchObject({
    table: TABLE,
    key: 'S:counted',
    writes: hot.admitted,
    wcu: hot.admitted,
    peakWritesPerSecond: hot.admitted,
    throttledWrites: hot.refused.length,
  });
  expect(rest.map((s) => [s.key, s.writes])).toEqual(
    expect.arrayContaining([
      ['S:calm-0', 1],
      ['S:calm-1', 1],
      ['S:calm-2', 1],
    ]),
  );
  expect(await local.dynamo.keyStats({ top: 1 })).toHaveLength(1);
  await local.dynamo.resetKeyStats();
  expect(await local.dynamo.keyStats()).toEqual([]);
});

test('index keys are counted on their own: one write per index entry', async () => {
  await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      local.client.send(
        new PutItemCommand({ TableName: TABLE, Item: { k: S(`room-${i}`), g: S('room-index') } }),
      ),
    ),
  );
  const stats = await local.dynamo.keyStats({ table: TABLE });
  expect(stats.find((s) => s.index === INDEX && s.key === 'S:room-index')?.writes).toBe(4);
});

test('an update that changes nothing an index holds writes no entry of it; one that changes a projected attribute does', async () => {
  const Key = { k: S('counted') };
  await local.client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { ...Key, g: S('counted-all'), h: S('counted-keys'), n: { N: '0' } },
    }),
  );
  for (let i = 1; i <= 3; i++)
    await local.client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key,
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: String(i) } },
      }),
    );
  const stats = await local.dynamo.keyStats({ table: TABLE });
  const writes = (index: string, key: string) =>
    stats.find((s) => s.index === index && s.key === key)?.writes;
  // The put wrote both; each update of `n` wrote the ALL index (it projects `n`), not the KEYS_ONLY one.
  expect(writes(INDEX, 'S:counted-all')).toBe(4);
  expect(writes(KEYS_INDEX, 'S:counted-keys')).toBe(1);
});

test('an index entry is charged its own size: a 3 KB item costs its KEYS_ONLY index 1 WCU, its ALL index 3', async () => {
  await local.client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: { k: S('large'), g: S('large-all'), h: S('large-keys'), body: S('x'.repeat(3 * 1024 - 100)) },
    }),
  );
  const stats = await local.dynamo.keyStats({ table: TABLE });
  const wcu = (index: string | undefined, key: string) =>
    stats.find((s) => s.index === index && s.key === key)?.wcu;
  expect({
    table: wcu(undefined, 'S:large'),
    all: wcu(INDEX, 'S:large-all'),
    keys: wcu(KEYS_INDEX, 'S:large-keys'),
  }).toEqual({ table: 3, all: 3, keys: 1 });
});

describe('through the local cloud', () => {
  let test: TestCloud;
  beforeAll(async () => {
    test = await startTestCloud({ dynamoKeyLimitScale: SCALE });
  }, 240_000);
  afterAll(async () => {
    await test?.cloud.close();
  });

  it('dynamoKeyLimitScale lowers the limit, and dynamoKeyStats reports the hot key', async () => {
    const admin = new DynamoDBClient({
      endpoint: test.cloud.dynamoEndpoint,
      region: test.cloud.template.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    // A template table keyed by one string attribute.
    const table = test.cloud.template
      .tables()
      .find(
        (t) =>
          t.KeySchema?.length === 1 &&
          t.AttributeDefinitions?.find((a) => a.AttributeName === t.KeySchema?.[0]?.AttributeName)
            ?.AttributeType === 'S',
      );
    const name = table?.TableName as string;
    const hashKey = table?.KeySchema?.[0]?.AttributeName as string;
    const settled = await Promise.allSettled(
      Array.from({ length: 2 * WCU }, (_, i) =>
        admin.send(
          new PutItemCommand({
            TableName: name,
            Item: { [hashKey]: S('hot-through-cloud'), i: { N: String(i) } },
          }),
        ),
      ),
    );
    admin.destroy();
    const refused = settled.filter((s) => s.status === 'rejected').length;
    expect(refused).toBeGreaterThanOrEqual(WCU);
    const [busiest] = await test.cloud.dynamoKeyStats({ table: name, top: 1 });
    expect(busiest).toMatchObject({ key: 'S:hot-through-cloud', throttledWrites: refused });
  });
});

test('--dynamo-key-limit-scale only lowers the limits: a scale above 1 is a usage error', () => {
  const cli = join(__dirname, '..', '..', 'dist', 'local', 'cli.js');
  const run = spawnSync(process.execPath, [cli, '--dynamo-key-limit-scale', '2'], { encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain('--dynamo-key-limit-scale must be a number from 0.0001 to 1, got "2"');
});
