import { Worker } from 'node:worker_threads';
import { LOCAL_ADMIN } from '../../tools/local/iam';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The local cloud's DynamoDB runs on a thread of its own (tools/local/dynamoThread.ts), so its answers do not wait
 * for the gateway's event loop: a fan-out keeping that loop busy does not hold back every send's DynamoDB calls.
 */
let testCloud: TestCloud;

beforeAll(async () => {
  testCloud = await startTestCloud();
});

afterAll(async () => {
  await testCloud?.cloud.close();
});

/** A client on another thread lists the tables in a loop until told to stop; it reports when each answer came. */
const LISTER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({ endpoint: workerData.endpoint, region: workerData.region, credentials: workerData.credentials });
const answeredAt = [];
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  await client.send(new ListTablesCommand({}));
  parentPort.postMessage({ ready: true });
  while (!stop) { await client.send(new ListTablesCommand({})); answeredAt.push(Date.now()); }
  parentPort.postMessage({ answeredAt });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

it('answers DynamoDB calls while the thread running the gateway is blocked', async () => {
  const { cloud } = testCloud;
  const lister = new Worker(LISTER, {
    eval: true,
    workerData: { endpoint: cloud.dynamoEndpoint, region: cloud.template.region, credentials: LOCAL_ADMIN },
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => lister.once('message', resolve));
  try {
    expect(await next()).toEqual({ ready: true });
    const counted = next();
    // Block this thread (the gateway's, the management API's and the state machines') for half a second.
    const from = Date.now();
    const until = from + 500;
    while (Date.now() < until) {
      /* busy */
    }
    lister.postMessage('stop');
    const { answeredAt, error } = (await counted) as { answeredAt: number[]; error?: string };
    expect(error).toBeUndefined();
    // Answers that came while this thread was blocked (not queued answers delivered once it was free again).
    const whileBlocked = answeredAt.filter((at) => at > from + 50 && at < until - 50);
    expect(whileBlocked.length).toBeGreaterThan(0);
  } finally {
    await lister.terminate();
  }
});

it('keeps idle connections open for a minute, so a client thread starved of CPU never reuses a closed one', async () => {
  // Node's default is 5 s: under overload a background-priority state machine reused a pooled socket the server
  // had just closed, and its Query failed with `TimeoutError: socket hang up`.
  const response = await fetch(testCloud.cloud.dynamoEndpoint, { method: 'POST', body: '{}' });
  await response.text();
  expect(response.headers.get('keep-alive')).toBe('timeout=60');
});
