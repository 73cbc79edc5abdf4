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

/**
 * A client on another thread lists the tables in a loop until told to stop, counting its answers in shared memory,
 * which this thread reads even while its event loop is blocked.
 */
const LISTER = `
const { parentPort, workerData } = require('node:worker_threads');
const { DynamoDBClient, ListTablesCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({ endpoint: workerData.endpoint, region: workerData.region, credentials: workerData.credentials });
const answered = new Int32Array(workerData.answered);
let stop = false;
parentPort.on('message', () => { stop = true; });
(async () => {
  await client.send(new ListTablesCommand({}));
  parentPort.postMessage({ ready: true });
  while (!stop) { await client.send(new ListTablesCommand({})); Atomics.add(answered, 0, 1); }
  parentPort.postMessage({ stopped: true });
})().catch((error) => parentPort.postMessage({ error: String(error) }));
`;

/** Answers to wait for while this thread is blocked: more than one in flight when the block began. */
const ANSWERS_WHILE_BLOCKED = 3;
/** Only ends a block whose answers never come (DynamoDB waiting on this thread): far beyond a loaded machine's pace. */
const BLOCK_CEILING_MS = 30_000;

it('answers DynamoDB calls while the thread running the gateway is blocked', async () => {
  const { cloud } = testCloud;
  const answered = new Int32Array(new SharedArrayBuffer(4));
  const lister = new Worker(LISTER, {
    eval: true,
    workerData: {
      endpoint: cloud.dynamoEndpoint,
      region: cloud.template.region,
      credentials: LOCAL_ADMIN,
      answered: answered.buffer,
    },
  });
  const next = () => new Promise<Record<string, unknown>>((resolve) => lister.once('message', resolve));
  try {
    expect(await next()).toEqual({ ready: true });
    const stopped = next();
    // Block this thread (the gateway's, the management API's and the state machines') until the lister has had
    // answers meanwhile: they cannot come from this thread, whose event loop runs nothing until the block ends.
    const before = Atomics.load(answered, 0);
    const ceiling = Date.now() + BLOCK_CEILING_MS;
    while (Atomics.load(answered, 0) < before + ANSWERS_WHILE_BLOCKED && Date.now() < ceiling) {
      /* busy */
    }
    const whileBlocked = Atomics.load(answered, 0) - before;
    lister.postMessage('stop');
    expect(await stopped).toEqual({ stopped: true });
    expect(whileBlocked).toBeGreaterThanOrEqual(ANSWERS_WHILE_BLOCKED);
  } finally {
    await lister.terminate();
  }
});
