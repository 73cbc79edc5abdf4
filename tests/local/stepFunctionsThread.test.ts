import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { roomKeyOf } from '#core/aws/roomMembers';
import { loadTemplate, readTemplateFile } from '../../tools/infra/template';
import { type LocalDynamo, startDynamoThread } from '../../tools/local/dynamodb';
import { createLocalIam } from '../../tools/local/iam';
import { LOCAL_ADMIN } from '../../tools/local/iam/admin';
import {
  type StepFunctionsThread,
  type StepFunctionsThreadInit,
  startStepFunctionsThread,
} from '../../tools/local/stepFunctionsHost';
import { prepareWithoutCursor, recordsOf } from '../helpers/fanoutMachine';

/**
 * The local cloud's state machines run on a thread of their own (tools/local/stepFunctionsThread.ts), as on AWS,
 * where Step Functions is another service: the engine's work does not wait for the gateway's event loop, and a
 * fan-out in progress does not hold back the request routes on that loop. Needs the build (dist/local/*Thread.js).
 */
const ROOT = join(__dirname, '..', '..');
const TEMPLATE = join(ROOT, 'template.yaml');
const template = loadTemplate(TEMPLATE);
const machine = template.stateMachines()[0];
const event = JSON.parse(readFileSync(join(ROOT, 'events', 'fanout.json'), 'utf8')) as {
  detail: { roomId: string };
};

let dynamo: LocalDynamo;
let stepFunctions: StepFunctionsThread;
let threadInit: StepFunctionsThreadInit;
const invoked: string[] = [];
/** What the machine's Deliver answers (a stub; by default, everything posted). */
let deliver: (payload: { op?: string; input?: unknown }) => unknown = () => ({});
const stopped: StepFunctionsThread[] = [];

/** Starts a Step Functions thread on the shared DynamoDB; `extra` is added to its init. */
async function startThread(extra: Partial<StepFunctionsThreadInit> = {}): Promise<StepFunctionsThread> {
  const thread = await startStepFunctionsThread(
    join(ROOT, 'dist', 'local', 'stepFunctionsThread.js'),
    { ...threadInit, ...extra },
    dynamo.endpoint,
    {
      invokeFunction: async (_machine, fn, payload) => {
        invoked.push(fn);
        return deliver(payload as { op?: string; input?: unknown });
      },
      putMetricData: () => undefined,
      log: () => undefined,
    },
  );
  stopped.push(thread);
  return thread;
}

beforeAll(async () => {
  const iam = createLocalIam(template, () => undefined);
  dynamo = await startDynamoThread(
    join(ROOT, 'dist', 'local', 'dynamoThread.js'),
    { template: readTemplateFile(TEMPLATE), secrets: iam.secrets() },
    () => undefined,
  );
  threadInit = {
    template: readTemplateFile(TEMPLATE),
    credentials: Object.fromEntries(
      template.stateMachines().map((d) => [d.logicalId, iam.credentials(d.logicalId)]),
    ),
  };
  stepFunctions = await startThread();
});

afterAll(async () => {
  for (const thread of stopped) await thread.close();
  await dynamo?.close();
});

it('runs an execution to its end while the thread running the gateway is blocked', async () => {
  if (!machine) throw new Error('template.yaml defines no state machine');
  // A room nobody is in: once its Prepare (a Lambda, answered here) is done, the execution queries the room's
  // connections (DynamoDB, its own thread) and has no one to post to, so nothing it does after needs this thread.
  // This thread blocks right after answering Prepare. Warm the engine and the SDK client first.
  // The thread counts each execution's end in memory this thread can read while it is blocked.
  const counter = new SharedArrayBuffer(4);
  const ended = new Int32Array(counter);
  const own = await startThread({ endedCounter: counter });
  const input = recordsOf({ ...event, detail: { ...event.detail, roomId: 'nobody-here' } });
  let block = false;
  let endedWhileBlocked = false;
  deliver = (step) => {
    if (block)
      setTimeout(() => {
        // Blocked until the execution has ended (or a minute, so a hang fails instead of blocking for ever): this
        // thread answers nothing meanwhile, so the execution can only end by the Step Functions thread's own work.
        const before = Atomics.load(ended, 0);
        const giveUp = Date.now() + 60_000;
        while (Atomics.load(ended, 0) === before && Date.now() < giveUp) {
          /* busy: this thread answers nothing */
        }
        endedWhileBlocked = Atomics.load(ended, 0) > before;
      }, 0);
    return prepareWithoutCursor(step.input);
  };
  expect(await own.execute(machine.logicalId, input)).toMatchObject({ ok: true });
  block = true;
  invoked.length = 0;
  const summary = await own.execute(machine.logicalId, input);
  deliver = () => ({});
  expect(summary).toMatchObject({ ok: true });
  // It ended inside the block: on this thread it could not have gone on.
  expect(endedWhileBlocked).toBe(true);
  expect(invoked).toHaveLength(1);
});

it('fails an execution of a machine it does not know with the reason, instead of hanging', async () => {
  const summary = await stepFunctions.execute('NoSuchMachine', {});
  expect(summary).toMatchObject({ ok: false, error: 'States.Runtime' });
  expect(summary.cause).toContain('NoSuchMachine');
});

describe('the test clock (tools/local/testClock.ts) reaches the thread', () => {
  /**
   * A presence change in a room of one member whose first post Deliver answers as to be posted again: the execution
   * waits in WaitToRepost (SecondsPath $.result.waitSeconds, `waitSeconds` here) before the repost. Resolves with
   * that wait's real length, from Deliver's first post to its second.
   */
  async function backOffMs(thread: StepFunctionsThread, roomId: string, waitSeconds = 1): Promise<number> {
    const member = `${roomId}-member=`;
    // The member's subscription: the room index entry the fan-out Queries.
    const table = template.tables().find((t) => t.logicalId === 'SubscriptionsTable')?.TableName as string;
    const db = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { ...LOCAL_ADMIN },
    });
    await db.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          connectionId: { S: member },
          roomId: { S: roomId },
          roomKey: { S: roomKeyOf(roomId, member, 1) },
        },
      }),
    );
    db.destroy();
    const calls: number[] = [];
    deliver = (step) => {
      if (step.op === 'prepare') return prepareWithoutCursor(step.input);
      calls.push(Date.now());
      return calls.length === 1
        ? { retry: { [member]: 0 }, retrying: true, waitSeconds, goneIds: [] }
        : { retrying: false, waitSeconds: 1, goneIds: [] };
    };
    const payload = JSON.stringify({ type: 'presence', roomId, username: 'bob', event: 'joined' });
    const summary = await thread.execute(
      machine?.logicalId as string,
      recordsOf({
        ...event,
        'detail-type': 'Presence',
        detail: { messageId: `presence-${roomId}`, roomId, payload },
      }),
    );
    deliver = () => ({});
    expect(summary).toMatchObject({ ok: true });
    expect(calls).toHaveLength(2);
    return (calls[1] as number) - (calls[0] as number);
  }

  it('without a clock the Wait lasts its real second; with one naming it, a millisecond per second', async () => {
    // A floor, which a loaded machine only lengthens: the real second is never cut short.
    expect(await backOffMs(stepFunctions, 'real-clock')).toBeGreaterThanOrEqual(1000);
    const clocked = await startThread({ testClock: { msPerSecond: 1, states: ['WaitToRepost'] } });
    // A Wait of an hour ends, in 3.6 real seconds: without the clock it would outlast the test, which then fails on
    // its timeout. No bound on the measured time, which a loaded machine stretches.
    await backOffMs(clocked, 'test-clock', 3600);
  }, 240_000);

  it('a clock naming a state no state machine has stops the thread from starting, naming it', async () => {
    await expect(
      startThread({ testClock: { msPerSecond: 1, states: ['WaitToRepost', 'NoSuchWait'] } }),
    ).rejects.toThrow('NoSuchWait');
  });
});

it("tells DynamoDB's start-up error when the local DynamoDB fails to start, not the thread's exit that follows", async () => {
  const failed = startStepFunctionsThread(
    join(ROOT, 'dist', 'local', 'stepFunctionsThread.js'),
    threadInit,
    Promise.reject(new Error('DynamoDB table RoomsTable is not ACTIVE after 120 s')),
    { invokeFunction: async () => ({}), putMetricData: () => undefined, log: () => undefined },
  );
  await expect(failed).rejects.toThrow('DynamoDB table RoomsTable is not ACTIVE after 120 s');
});
