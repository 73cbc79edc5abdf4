import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate, readTemplateFile } from '../../infra/template';
import { type LocalDynamo, startDynamoThread } from '../../local/dynamodb';
import { createLocalIam } from '../../local/iam';
import { type StepFunctionsThread, startStepFunctionsThread } from '../../local/stepFunctionsHost';

/**
 * The local cloud's state machines run on a thread of their own (local/stepFunctionsThread.ts), as on AWS, where
 * Step Functions is another service: the engine's work does not wait for the gateway's event loop, and a fan-out in
 * progress does not hold back the request routes on that loop. Needs the build (dist/local/*Thread.js).
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
const invoked: string[] = [];

beforeAll(async () => {
  const iam = createLocalIam(template, () => undefined);
  dynamo = await startDynamoThread(
    join(ROOT, 'dist', 'local', 'dynamoThread.js'),
    { template: readTemplateFile(TEMPLATE), secrets: iam.secrets() },
    () => undefined,
  );
  stepFunctions = await startStepFunctionsThread(
    join(ROOT, 'dist', 'local', 'stepFunctionsThread.js'),
    {
      template: readTemplateFile(TEMPLATE),
      credentials: Object.fromEntries(
        template.stateMachines().map((d) => [d.logicalId, iam.credentials(d.logicalId)]),
      ),
    },
    dynamo.endpoint,
    {
      invokeFunction: async (_machine, fn) => {
        invoked.push(fn);
        return {};
      },
      putMetricData: () => undefined,
      log: () => undefined,
    },
  );
});

afterAll(async () => {
  await stepFunctions?.close();
  await dynamo?.close();
});

it('runs an execution to its end while the thread running the gateway is blocked', async () => {
  if (!machine) throw new Error('template.yaml defines no state machine');
  // A room nobody is in: the execution queries its connections (DynamoDB, its own thread) and has no one to post
  // to, so nothing it does needs this thread. Warm the engine and the SDK client first.
  const input = { ...event, detail: { ...event.detail, roomId: 'nobody-here' } };
  expect(await stepFunctions.execute(machine.logicalId, input)).toMatchObject({ ok: true });
  const running = stepFunctions.execute(machine.logicalId, input);
  const blockMs = 1000;
  const until = Date.now() + blockMs;
  while (Date.now() < until) {
    /* busy: this thread answers nothing */
  }
  const summary = await running;
  expect(summary).toMatchObject({ ok: true });
  // It ended inside the block, not after it: on this thread it could not even have started.
  expect(summary.endedAt).toBeLessThan(until);
  expect(invoked).toEqual([]);
});

it('fails an execution of a machine it does not know with the reason, instead of hanging', async () => {
  const summary = await stepFunctions.execute('NoSuchMachine', {});
  expect(summary).toMatchObject({ ok: false, error: 'States.Runtime' });
  expect(summary.cause).toContain('NoSuchMachine');
});
