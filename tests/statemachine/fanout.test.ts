import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { loadTemplate } from '../../infra/template';
import { type LocalDynamo, startDynamo } from '../../local/dynamodb';
import { forStepFunctions, LambdaServiceError } from '../../local/lambda/service';
import { LocalStateMachine } from '../../local/stepfunctions';
import { readEvent } from '../helpers/events';
import { FakeManagementApi } from '../helpers/fakeManagementApi';
import { testClock } from '../helpers/fanoutMachine';

/**
 * The fan-out state machine of template.yaml, run by aws-local-stepfunctions against dynalite, with the real
 * Deliver handler posting to a fake management API.
 */
const managementApi = new FakeManagementApi();
let dynamo: LocalDynamo;
let db: DynamoDBClient;
let machine: LocalStateMachine;
let table: string;

// Small pages and chunks so a room of a few dozen members spans several pages and Map iterations.
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'), {
  parameters: { FanoutPageSize: '7', FanoutChunkSize: '3', FanoutMaxConcurrency: '4' },
});

beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await managementApi.start();
  dynamo = await startDynamo({ tables: template.tables() });
  db = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  table = template.tables().find((t) => t.logicalId === 'ConnectionsTable')?.TableName as string;
  const { handler: deliver } = await import('../../functions/deliver');
  const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
  if (!fanout) throw new Error('FanoutStateMachine missing from template.yaml');
  machine = new LocalStateMachine(
    fanout.name,
    fanout.definition,
    { dynamodb: db, invokeFunction: (_arn, payload) => deliver(payload as never) },
    { testClock: testClock(fanout.definition) },
  );
});

afterAll(async () => {
  await managementApi.stop();
  await dynamo.close();
});

beforeEach(() => {
  managementApi.received.clear();
  managementApi.gone.clear();
  managementApi.throttle.clear();
});

async function addMembers(roomId: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${roomId}-${String(i).padStart(3, '0')}=`);
  for (let i = 0; i < ids.length; i += 25) {
    const batch = ids.slice(i, i + 25).map((id) => ({
      PutRequest: { Item: { connectionId: { S: id }, roomId: { S: roomId }, username: { S: `user-${id}` } } },
    }));
    await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
  return ids;
}

function messageEvent(roomId: string | undefined, text: string) {
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  const payload = JSON.stringify({ type: 'message', roomId, seq: 1, text });
  const detail = { messageId: `m-${text}`, payload, ...(roomId ? { roomId } : {}) };
  return { ...event, detail };
}

const exists = async (connectionId: string) =>
  (await db.send(new GetItemCommand({ TableName: table, Key: { connectionId: { S: connectionId } } })))
    .Item !== undefined;

it('delivers a message once to every member of a room that spans several pages, and to nobody else', async () => {
  const members = await addMembers('PAGED2', 23);
  const outsiders = await addMembers('OTHER3', 5);
  const run = await machine.execute(messageEvent('PAGED2', 'paged'));
  expect(run).toMatchObject({ ok: true });
  for (const id of members)
    expect(managementApi.received.get(id)?.map((p) => JSON.parse(p).text)).toEqual(['paged']);
  for (const id of outsiders) expect(managementApi.received.has(id)).toBe(false);
});

it('deletes exactly the connections that answered 410 Gone and keeps the live ones', async () => {
  const members = await addMembers('STALE4', 10);
  const stale = [members[1], members[6], members[9]] as string[];
  for (const id of stale) managementApi.gone.add(id);
  const run = await machine.execute(messageEvent('STALE4', 'prune'));
  expect(run.ok).toBe(true);
  for (const id of members) expect(await exists(id)).toBe(!stale.includes(id));
  expect(members.filter((id) => managementApi.received.has(id))).toHaveLength(7);
});

it('retries a throttled post after backing off and then delivers it once', async () => {
  const members = await addMembers('RETRY5', 4);
  managementApi.throttle.set(members[2] as string, 4); // more 429s than the SDK's own three attempts
  const run = await machine.execute(messageEvent('RETRY5', 'again'));
  expect(run.ok).toBe(true);
  for (const id of members) expect(managementApi.received.get(id)).toHaveLength(1);
});

it('ends cleanly for an empty room', async () => {
  const run = await machine.execute(messageEvent('EMPTY6', 'nobody'));
  expect(run).toMatchObject({ ok: true });
  expect(managementApi.received.size).toBe(0);
});

it('reaches every connection of every room for a broadcast without a room', async () => {
  const a = await addMembers('BCASTA', 4);
  const b = await addMembers('BCASTB', 4);
  const run = await machine.execute(messageEvent(undefined, 'to-all'));
  expect(run.ok).toBe(true);
  for (const id of [...a, ...b])
    expect(managementApi.received.get(id)?.map((p) => JSON.parse(p).text)).toEqual(['to-all']);
});

describe('overload: a chunk that fails, a throttled Deliver, the attempt limit', () => {
  /** A machine whose Deliver is the real handler behind `wrap`, with the metrics it puts recorded. */
  function machineWith(
    wrap: (
      payload: { connectionIds: string[] },
      deliver: (p: unknown) => Promise<unknown>,
    ) => Promise<unknown>,
    parameters: Record<string, string> = {},
  ) {
    const t = loadTemplate(join(__dirname, '..', '..', 'template.yaml'), {
      parameters: { FanoutPageSize: '7', FanoutChunkSize: '3', FanoutMaxConcurrency: '4', ...parameters },
    });
    const fanout = t.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
    if (!fanout) throw new Error('FanoutStateMachine missing from template.yaml');
    const metrics: Record<string, number> = {};
    const m = new LocalStateMachine(
      fanout.name,
      fanout.definition,
      {
        dynamodb: db,
        // As the local cloud wires it: Lambda's own errors reach the state machine as `Lambda.<name>`.
        invokeFunction: forStepFunctions(async (_arn, payload) => {
          const { handler: deliver } = await import('../../functions/deliver');
          return wrap(payload as { connectionIds: string[] }, (p) => deliver(p as never));
        }),
        putMetricData: ({ MetricData }) => {
          for (const { MetricName, Value = 0 } of MetricData)
            metrics[MetricName] = (metrics[MetricName] ?? 0) + Value;
        },
      },
      { testClock: testClock(fanout.definition) },
    );
    return { machine: m, metrics };
  }

  it('a chunk whose Deliver fails is counted, and the execution still delivers every other chunk', async () => {
    const members = await addMembers('CHUNK7', 9); // three chunks of 3
    const doomed = members[4] as string;
    const { machine: m, metrics } = machineWith(async (payload, deliver) => {
      if (payload.connectionIds.includes(doomed)) throw new Error('Deliver crashed');
      return deliver(payload);
    });
    const run = await m.execute(messageEvent('CHUNK7', 'partial'));
    expect(run).toMatchObject({ ok: true });
    const reached = members.filter((id) => managementApi.received.has(id));
    expect(reached).toHaveLength(6);
    expect(reached).not.toContain(doomed);
    expect(metrics).toEqual({ DeliveryChunksFailed: 1, DeliveryFailures: 3 });
  });

  it('a throttled Deliver (Lambda.TooManyRequestsException) is waited out and delivers once', async () => {
    const members = await addMembers('THROT8', 3);
    let throttles = 2;
    const { machine: m, metrics } = machineWith(async (payload, deliver) => {
      if (throttles-- > 0) throw new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429);
      return deliver(payload);
    });
    const run = await m.execute(messageEvent('THROT8', 'later'));
    expect(run).toMatchObject({ ok: true, retries: 2 });
    for (const id of members) expect(managementApi.received.get(id)).toHaveLength(1);
    expect(metrics).toEqual({});
  });

  it('a Deliver invoke that times out on the client side (Lambda.ClientExecutionTimeoutException) is retried and delivers once', async () => {
    const members = await addMembers('CLTO42', 2);
    let failures = 1;
    const { machine: m, metrics } = machineWith(async (payload, deliver) => {
      if (failures-- > 0) {
        // What Step Functions reports when its call to Lambda times out (AWS's "handle Lambda service exceptions").
        const error = new Error(
          'Client execution did not complete before the specified timeout configuration.',
        );
        error.name = 'Lambda.ClientExecutionTimeoutException';
        throw error;
      }
      return deliver(payload);
    });
    const run = await m.execute(messageEvent('CLTO42', 'once'));
    expect(run).toMatchObject({ ok: true, retries: 1 });
    for (const id of members) expect(managementApi.received.get(id)).toHaveLength(1);
    expect(metrics).toEqual({});
  });

  it('posts to a connection that keeps answering 429 for FanoutDeliveryAttempts rounds, then counts it failed', async () => {
    const [member] = await addMembers('LIMIT9', 1);
    managementApi.throttle.set(member as string, 1000);
    const rounds: number[] = [];
    const { machine: m } = machineWith(
      async (payload, deliver) => {
        rounds.push((payload as { attempt?: number }).attempt ?? 0);
        return deliver(payload);
      },
      { FanoutDeliveryAttempts: '2' },
    );
    const run = await m.execute(messageEvent('LIMIT9', 'never'));
    expect(run.ok).toBe(true);
    expect(rounds).toEqual([1, 2]);
    expect(managementApi.received.has(member as string)).toBe(false);
    managementApi.throttle.clear();
  });
});
