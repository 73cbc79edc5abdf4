import { join } from 'node:path';
import { BatchWriteItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadTemplate } from '../../tools/infra/template';
import { type LocalDynamo, startDynamo } from '../../tools/local/dynamodb';
import { LocalStateMachine, type PutMetricDataInput } from '../../tools/local/stepfunctions';
import { readEvent } from '../helpers/events';
import { FakeManagementApi } from '../helpers/fakeManagementApi';
import { testClock } from '../helpers/fanoutMachine';
import { localDynamoClient } from '../helpers/localCloud';
import { faultProxy } from '../helpers/templateTables';

/**
 * The everyone-broadcast's own state machine (statemachines/broadcast.asl.json; docs/OPERATIONS.md, "A broadcast
 * that gave up"): its Scan of the connections table runs in parallel segments under a deadline, and a Scan that
 * fails past its retries or a segment with pages left at the deadline gives up, counted (BroadcastGaveUp) and
 * ended as Broadcast.GaveUp, never a silent run into Express's time limit. Deliver runs in-process against a fake
 * management API; the machine's own Scans go to dynalite (or through a fault proxy).
 */
jest.setTimeout(240_000);

const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const found = template.stateMachines().find((m) => m.logicalId === 'BroadcastStateMachine');
if (!found) throw new Error('BroadcastStateMachine missing from template.yaml');
const broadcastMachine = found;
/** Pages of 5 connections (the template's are 1,000), so a few connections span several pages per segment. */
const definition = JSON.parse(
  JSON.stringify(broadcastMachine.definition).replace(
    "States.StringToJson('1000')",
    "States.StringToJson('5')",
  ),
) as object;

const managementApi = new FakeManagementApi();
let dynamo: LocalDynamo;
let db: DynamoDBClient;
let connectionsTable: string;
let metrics: Record<string, number>;
/** Rewrites what Deliver answered before the machine sees it (a test's hook: a deadline already passed). */
let afterStep: (input: { op?: string }, output: Record<string, unknown>) => Record<string, unknown>;

beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await managementApi.start();
  dynamo = await startDynamo({ tables: template.tables() });
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const tables = Object.fromEntries(template.tables().map((t) => [t.logicalId, t.TableName as string]));
  connectionsTable = tables.ConnectionsTable as string;
  Object.assign(process.env, {
    CONNECTIONS_TABLE: tables.ConnectionsTable,
    ROOMS_TABLE: tables.RoomsTable,
    MESSAGES_TABLE: tables.MessagesTable,
    LIMITS_TABLE: tables.LimitsTable,
  });
  db = localDynamoClient(dynamo.endpoint);
  const ids = Array.from({ length: 40 }, (_, i) => `conn-${String(i).padStart(2, '0')}=`);
  for (let i = 0; i < ids.length; i += 25)
    await db.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [connectionsTable]: ids.slice(i, i + 25).map((id) => ({
            PutRequest: { Item: { connectionId: { S: id }, roomId: { S: 'lobby' }, username: { S: id } } },
          })),
        },
      }),
    );
});

afterAll(async () => {
  db.destroy();
  await managementApi.stop();
  await dynamo.close();
});

beforeEach(() => {
  managementApi.received.clear();
  metrics = {};
  afterStep = (_, output) => output;
});

function machineWith(dynamodb: DynamoDBClient) {
  return new LocalStateMachine(
    broadcastMachine.name,
    definition,
    {
      dynamodb,
      invokeFunction: async (_arn, payload) => {
        const { handler } = await import('#deliver/index');
        const output = (await handler(payload as never)) as unknown as Record<string, unknown>;
        return afterStep(payload as { op?: string }, output);
      },
      putMetricData: (input: PutMetricDataInput) => {
        for (const m of input.MetricData)
          metrics[m.MetricName] = (metrics[m.MetricName] ?? 0) + (m.Value ?? 1);
      },
    },
    { testClock: testClock(definition), type: broadcastMachine.type },
  );
}

function broadcastEvent(text: string) {
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  const payload = JSON.stringify({ type: 'broadcast', messageId: `b-${text}`, text });
  return { ...event, 'detail-type': 'Broadcast', detail: { messageId: `b-${text}`, payload } };
}

const reached = () => [...managementApi.received.values()].filter((frames) => frames.length > 0).length;

it('reaches every connection once over its parallel segments, counting no give-up', async () => {
  const run = await machineWith(db).execute(broadcastEvent('hello'));
  expect(run.ok).toBe(true);
  expect(reached()).toBe(40);
  expect([...managementApi.received.values()].every((frames) => frames.length === 1)).toBe(true);
  expect(run.states.filter((s) => s === 'ScanFirstPage')).toHaveLength(4);
  expect(run.states).toContain('ScanNextPage');
  expect(metrics).toEqual({});
});

it('a segment with pages left at its deadline stops reading, and the broadcast gives up counted', async () => {
  afterStep = (input, output) =>
    input.op === 'broadcast' ? { ...output, deadline: new Date(Date.now() - 1000).toISOString() } : output;
  const run = await machineWith(db).execute(broadcastEvent('late'));
  expect({ ok: run.ok, error: run.error }).toEqual({ ok: false, error: 'Broadcast.GaveUp' });
  expect(run.states).toContain('OutOfTime');
  expect(run.states).not.toContain('ScanNextPage');
  expect(metrics).toEqual({ BroadcastGaveUp: 1 });
  // Each segment's first page went out before the deadline was looked at; the rest did not.
  expect(reached()).toBeGreaterThan(0);
  expect(reached()).toBeLessThan(40);
});

describe('whose Scan fails past its retries', () => {
  const proxied = faultProxy(
    () => dynamo.endpoint,
    (endpoint) => localDynamoClient(endpoint, 1),
  );

  it('is caught: the broadcast gives up counted (BroadcastGaveUp) and fails as Broadcast.GaveUp, never a hang', async () => {
    proxied.faults.setThrottle(1);
    const run = await machineWith(proxied.client)
      .execute(broadcastEvent('lost'))
      .finally(() => proxied.faults.setThrottle(0));
    expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({
      ok: false,
      error: 'Broadcast.GaveUp',
      failedState: 'GaveUp',
    });
    expect(run.states.filter((s) => s === 'ScanFailed')).toHaveLength(4);
    expect(proxied.faults.stats().throttled).toBeGreaterThan(4);
    expect(metrics).toEqual({ BroadcastGaveUp: 1 });
    expect(reached()).toBe(0);
  });
});
