import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { loadTemplate } from '../../infra/template';
import { statesByName } from '../../local/aslStates';
import { type LocalDynamo, startDynamo } from '../../local/dynamodb';
import { type ExecutionSummary, LocalStateMachine } from '../../local/stepfunctions';
import type { StepFunctionsTestClock } from '../../local/testClock';
import { readEvent } from './events';
import { FakeEventBus } from './fakeEventBus';
import { FakeManagementApi } from './fakeManagementApi';

/**
 * A room's messages through the fan-out state machine of template.yaml (aws-local-stepfunctions against dynalite):
 * the room's delivery lease, coalesced cycles, the posting budget and the retries of failed posts, with the real
 * Deliver handler posting to a fake management API. `useFanoutMachine()` registers the file's set-up and clean-up
 * hooks; its fields are set once the file's first `beforeAll` has run.
 */
export type Step = { op?: string; [key: string]: unknown };

export interface FanoutMachine {
  managementApi: FakeManagementApi;
  /**
   * The chat bus: what an execution hands on (owed posts, a successor) starts an execution of the machine that ran
   * it, as the template's rule does; a machine's `execute` here returns once those have ended too.
   */
  bus: FakeEventBus;
  /** Every execution's summary, the ones the bus started included (emptied before each test). */
  runs: ExecutionSummary[];
  dynamo: LocalDynamo;
  db: DynamoDBClient;
  tables: Record<string, string>;
  /** The fan-out machine, its own DynamoDB tasks (the prunes, the queries) sent to dynalite. */
  machine: LocalStateMachine;
  /** The same machine with its own DynamoDB tasks sent through `dynamodb` (e.g. a fault proxy). */
  machineWith: (dynamodb: DynamoDBClient) => LocalStateMachine;
  /**
   * The machine with every pause its real length, for a test whose meaning is how many backoffs fit in Deliver's
   * wall-clock retry budget (on the test clock, dozens of tries fit where AWS makes a few).
   */
  realTimeMachine: LocalStateMachine;
  /** Every cycle step Deliver ran, with what it answered (emptied before each test). */
  steps: { input: Step; output: unknown }[];
  /** Runs before a step reaches Deliver (a test's hook into the race it stages; reset before each test). */
  beforeStep: (input: Step) => Promise<void>;
  /** The local Step Functions' fault switch: true loses that step's answer after Deliver ran it (reset before each test). */
  loseAnswer: (input: Step) => boolean;
}

/** Small pages and chunks, so a few members span several of each. */
const SMALL_PAGES = { FanoutPageSize: '7', FanoutChunkSize: '3', FanoutMaxConcurrency: '4' };

/**
 * The local Step Functions' test clock (local/testClock.ts) for these tests: every Wait and Retry pause of the
 * fan-out machine lasts 10 ms per second. Here Deliver runs in-process, with no concurrency limit whose release a
 * retry waits for, and what the tests stage (throttled posts, conflicts, failures) is counted in tries, not in
 * time, so the pauses' length changes no outcome. Deliver's retry budget (FANOUT_RETRY_SECONDS) is wall-clock, so
 * a test of what happens when it runs out uses `realTimeMachine`.
 */
export const testClock = (definition: object): StepFunctionsTestClock => ({
  msPerSecond: 10,
  states: [...statesByName<{ Type: string; Retry?: unknown }>(definition)]
    .filter(([, s]) => s.Type === 'Wait' || s.Retry)
    .map(([name]) => name),
});

/**
 * `settings`: the template's fan-out settings for this file (default: small pages and chunks). `retrySeconds`:
 * Deliver's retry budget (FANOUT_RETRY_SECONDS). It is wall-clock while the test clock shortens the backoffs between
 * tries, so how many tries fit in it depends on the machine's load: the default (3 s, a couple of real backoffs) is
 * for a test on `realTimeMachine`; a test on the test clock whose outcome must not depend on load gives its members
 * the template's default budget.
 */
export function useFanoutMachine(
  settings: Record<string, string> = SMALL_PAGES,
  { retrySeconds = 3 }: { retrySeconds?: number } = {},
) {
  const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'), { parameters: settings });
  const h = {
    managementApi: new FakeManagementApi(),
    bus: new FakeEventBus(),
    runs: [],
    steps: [],
    beforeStep: async () => undefined,
    loseAnswer: () => false,
  } as unknown as FanoutMachine;

  beforeAll(async () => {
    process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await h.managementApi.start();
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = await h.bus.start();
    h.dynamo = await startDynamo({ tables: template.tables() });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = h.dynamo.endpoint;
    h.tables = Object.fromEntries(template.tables().map((t) => [t.logicalId, t.TableName as string]));
    Object.assign(process.env, {
      CONNECTIONS_TABLE: h.tables.ConnectionsTable,
      ROOMS_TABLE: h.tables.RoomsTable,
      MESSAGES_TABLE: h.tables.MessagesTable,
      LIMITS_TABLE: h.tables.LimitsTable,
      FANOUT_POSTS_PER_SECOND: '8000',
      EVENT_BUS_NAME: 'chat-bus',
      EVENT_SOURCE: 'roomcast.chat',
      FANOUT_RETRY_SECONDS: String(retrySeconds),
    });
    h.db = new DynamoDBClient({
      endpoint: h.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const { handler: deliver } = await import('../../functions/deliver');
    const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
    if (!fanout) throw new Error('FanoutStateMachine missing from template.yaml');
    const build = (dynamodb: DynamoDBClient, clock?: StepFunctionsTestClock) =>
      following(
        new LocalStateMachine(
          fanout.name,
          fanout.definition,
          {
            dynamodb,
            invokeFunction: async (_arn, payload) => {
              await h.beforeStep(payload as Step);
              const output = await deliver(payload as never);
              h.steps.push({ input: payload as Step, output });
              return output;
            },
            lambdaResponseLost: (_state, input) => h.loseAnswer(input as Step),
          },
          { testClock: clock, type: fanout.type },
        ),
      );
    h.machineWith = (dynamodb) => build(dynamodb, testClock(fanout.definition));
    h.machine = h.machineWith(h.db);
    h.realTimeMachine = build(h.db);
  });

  /** The machine, whose executions start the bus's follow-ups on it and wait for them (and theirs) to end. */
  function following(machine: LocalStateMachine): LocalStateMachine {
    const pending = new Set<Promise<unknown>>();
    const run = async (input: unknown) => {
      const summary = await machine.execute(input);
      h.runs.push(summary);
      return summary;
    };
    const execute = async (input: unknown) => {
      const previous = h.bus.onEvent;
      h.bus.onEvent = (event) => {
        const followUp = run(event);
        pending.add(followUp);
        void followUp.finally(() => pending.delete(followUp));
      };
      try {
        const summary = await run(input);
        while (pending.size > 0) await Promise.all(pending);
        return summary;
      } finally {
        h.bus.onEvent = previous;
      }
    };
    return Object.assign(Object.create(machine) as LocalStateMachine, { execute });
  }

  afterAll(async () => {
    await h.bus.stop();
    await h.managementApi.stop();
    await h.dynamo.close();
  });

  beforeEach(() => {
    const api = h.managementApi;
    api.received.clear();
    api.throttle.clear();
    api.delayMs = 0;
    api.gone.clear();
    api.beforeAnswer = undefined;
    h.steps.length = 0;
    h.runs.length = 0;
    h.bus.events.length = 0;
    h.beforeStep = async () => undefined;
    h.loseAnswer = () => false;
  });

  async function addMembers(roomId: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, i) => `${roomId}-${String(i).padStart(3, '0')}=`);
    for (let i = 0; i < ids.length; i += 25) {
      const batch = ids.slice(i, i + 25).map((id) => ({
        PutRequest: {
          Item: { connectionId: { S: id }, roomId: { S: roomId }, username: { S: `user-${id}` } },
        },
      }));
      await h.db.send(
        new BatchWriteItemCommand({ RequestItems: { [h.tables.ConnectionsTable as string]: batch } }),
      );
    }
    return ids;
  }

  async function createRoom(roomId: string): Promise<void> {
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.RoomsTable,
        Item: { roomId: { S: roomId }, seq: { N: '0' }, createdAt: { S: new Date().toISOString() } },
      }),
    );
  }

  /** Stores the room's next message as sendmessage does (the seq and the message), and returns its event. */
  async function send(roomId: string, seq: number, text = `m${seq}`) {
    const message = {
      roomId,
      seq,
      messageId: `${roomId}-${seq}`,
      username: 'alice',
      text,
      sentAt: new Date().toISOString(),
    };
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.MessagesTable,
        Item: {
          roomId: { S: roomId },
          seq: { N: String(seq) },
          messageId: { S: message.messageId },
          username: { S: 'alice' },
          text: { S: text },
          sentAt: { S: message.sentAt },
        },
      }),
    );
    await h.db.send(
      new UpdateItemCommand({
        TableName: h.tables.RoomsTable,
        Key: { roomId: { S: roomId } },
        UpdateExpression: 'SET seq = :seq REMOVE restarts',
        ConditionExpression: 'seq = :was',
        ExpressionAttributeValues: { ':seq': { N: String(seq) }, ':was': { N: String(seq - 1) } },
      }),
    );
    const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
    const payload = JSON.stringify({ type: 'message', ...message });
    return { ...event, detail: { type: 'MessageSent', messageId: message.messageId, roomId, seq, payload } };
  }

  /** The seqs each frame a connection received carries, frame by frame (a resync frame as `resync:<afterSeq>`). */
  function framesOf(connectionId: string): (number | string)[][] {
    return (h.managementApi.received.get(connectionId) ?? []).map((raw) => {
      const frame = JSON.parse(raw) as {
        type: string;
        seq?: number;
        afterSeq?: number;
        messages?: { seq: number }[];
      };
      if (frame.type === 'message') return [frame.seq as number];
      if (frame.type === 'batch') return (frame.messages ?? []).map((m) => m.seq);
      if (frame.type === 'resync') return [`resync:${frame.afterSeq}`];
      return [frame.type];
    });
  }

  /** The room's item as the fan-out left it. */
  async function roomItem(roomId: string) {
    const { Item } = await h.db.send(
      new GetItemCommand({
        TableName: h.tables.RoomsTable,
        Key: { roomId: { S: roomId } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  /** The gone member's connection item was deleted, and the room's lease is free again. */
  async function expectPrunedAndFree(gone: string, roomId: string): Promise<void> {
    const { Item } = await h.db.send(
      new GetItemCommand({ TableName: h.tables.ConnectionsTable, Key: { connectionId: { S: gone } } }),
    );
    expect(Item).toBeUndefined();
    expect((await roomItem(roomId))?.leaseOwner).toBeUndefined();
  }

  return {
    h,
    addMembers,
    createRoom,
    send,
    framesOf,
    seqsOf: (connectionId: string) => framesOf(connectionId).flat(),
    ops: () => h.steps.map((s) => s.input.op),
    roomItem,
    expectPrunedAndFree,
  };
}
