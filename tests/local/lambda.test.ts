import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvocationKind, LambdaLimits, LocalFunctionSpec } from '../../tools/local/lambda/service';
import { forStepFunctions, LocalLambda } from '../../tools/local/lambda/service';
import { LocalStateMachine } from '../../tools/local/stepfunctions';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { hs256Token } from '../helpers/tokens';

const WORKER = join(__dirname, '..', '..', 'dist', 'local', 'lambda', 'worker.js');

/**
 * A handler with module state, as real handlers have (SDK clients, caches, the Powertools logger's keys): `count`
 * tells how many invocations this environment has served, `current` which request it is serving now. With
 * `holdUntil` (a file), it runs until the test creates that file.
 */
const HANDLER = `
let count = 0;
let current;
exports.handler = async (event, context) => {
  count++;
  current = event.id;
  if (event.forever) for (;;) {}
  const startedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, event.waitMs ?? 0));
  while (event.holdUntil && !require('node:fs').existsSync(event.holdUntil))
    await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    id: event.id,
    current,
    count,
    requestId: context.awsRequestId,
    threadId: require('node:worker_threads').threadId,
    startedAt,
    endedAt: Date.now(),
  };
};
`;

/** A bundle whose load (its cold start) lasts until the file `LOADED_WHEN` exists. */
const SLOW_INIT = `
const { existsSync } = require('node:fs');
while (!existsSync(process.env.LOADED_WHEN)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
exports.handler = async (event) => ({ id: event.id });
`;

interface Reply {
  id: number;
  current: number;
  count: number;
  requestId: string;
  threadId: number;
  startedAt: number;
  endedAt: number;
}

let dir: string;
const services: LocalLambda[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roomcast-lambda-'));
  writeFileSync(join(dir, 'index.js'), HANDLER);
});

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function spec(overrides: Partial<LocalFunctionSpec> = {}): LocalFunctionSpec {
  return {
    logicalId: 'Probe',
    name: 'probe',
    arn: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
    bundlePath: join(dir, 'index.js'),
    handlerExport: 'handler',
    timeoutSeconds: 5,
    memoryMb: 128,
    environment: {},
    ...overrides,
  };
}

function service(
  specs: LocalFunctionSpec[],
  limits: Partial<LambdaLimits> = {},
): { lambda: LocalLambda; logs: string[] } {
  const logs: string[] = [];
  const lambda = new LocalLambda(specs, WORKER, (fn, line) => logs.push(`${fn} ${line}`), limits);
  services.push(lambda);
  return { lambda, logs };
}

/** An invocation that runs until `release` is called, whatever the machine's load. */
function held() {
  const file = join(dir, `release-${randomUUID()}`);
  return { holdUntil: file, release: () => writeFileSync(file, '') };
}

/**
 * Runs `n` invocations of `fn` (a logical id) and holds each until all `n` execute at once: they then run in `n`
 * environments of their own, whatever the machine's load.
 */
async function atOnce(lambda: LocalLambda, fn: string, n: number, kind: InvocationKind = 'request') {
  const hold = held();
  const all = Promise.all(
    Array.from({ length: n }, (_, i) => lambda.invoke(fn, { id: i + 1, holdUntil: hold.holdUntil }, kind)),
  );
  while ((lambda.stats().environments[fn]?.executing ?? 0) < n) await sleep(5);
  hold.release();
  return (await all) as Reply[];
}

/**
 * Loads `n` environments of `fn` before a test of turns: an invocation whose function has no idle environment
 * waits for one to load outside the turns, so a cold function's invocations would all wait.
 */
async function warm(lambda: LocalLambda, fn: string, n = 1, kind: InvocationKind = 'request'): Promise<void> {
  await atOnce(lambda, fn, n, kind);
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { reason?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { reason?: string };
  }
  throw new Error('expected a rejection');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `check` holds; the ceiling is generous, for a loaded machine, and only ends a failing wait. */
async function until(check: () => boolean, ceilingMs = 120_000): Promise<void> {
  const ceiling = Date.now() + ceilingMs;
  while (!check()) {
    if (Date.now() > ceiling) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('local Lambda: one invocation per execution environment', () => {
  it('never lets two concurrent invocations share module state', async () => {
    const { lambda } = service([spec()], { environments: 4 });
    const replies = await atOnce(lambda, 'Probe', 4);
    // Each request still sees its own id after awaiting: no other request ran in its environment meanwhile.
    for (const reply of replies) expect(reply.current).toBe(reply.id);
    expect(new Set(replies.map((r) => r.threadId)).size).toBe(4);
    expect(new Set(replies.map((r) => r.requestId)).size).toBe(4);
  });

  it('reuses a warm environment for the next invocation', async () => {
    const { lambda, logs } = service([spec()]);
    const first = (await lambda.invoke('Probe', { id: 1 })) as Reply;
    const second = (await lambda.invoke('probe', { id: 2 })) as Reply;
    expect(second.threadId).toBe(first.threadId);
    expect(second.count).toBe(2);
    expect(logs.filter((l) => l.includes('INIT (cold start)'))).toHaveLength(1);
  });

  it('runs at most `environments` invocations at once across functions; the others wait their turn and all succeed', async () => {
    const other = spec({
      logicalId: 'Other',
      name: 'other',
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:other',
    });
    const { lambda } = service([spec(), other], { environments: 3 });
    const ids = [1, 2, 3, 4, 5, 6, 7];
    const invocations = ['Probe', 'Other'].map((fn, i) =>
      Promise.all(ids.map((id) => lambda.invoke(fn, { id, waitMs: 50 }, i === 0 ? 'request' : 'background'))),
    );
    // Three are given an environment at once; the other eleven wait.
    const { request, background } = lambda.backlog();
    expect(request + background).toBe(11);
    const replies = (await Promise.all(invocations)).flat() as Reply[];
    expect(replies).toHaveLength(14);
    for (const reply of replies) expect(reply.current).toBe(reply.id);
    // How many ran at once, from each invocation's own start and end: never more than the environments (fewer when
    // a busy machine staggers the environments' cold starts).
    const overlap = Math.max(
      ...replies.map(
        (r) => replies.filter((o) => o.startedAt <= r.startedAt && o.endedAt > r.startedAt).length,
      ),
    );
    expect(overlap).toBeLessThanOrEqual(3);
    expect(lambda.backlog()).toEqual({ request: 0, background: 0 });
  });
});

describe('local Lambda: one queue, the invocations clients wait for first', () => {
  const other = () =>
    spec({
      logicalId: 'Fanout',
      name: 'fanout',
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:fanout',
    });

  /** Invokes and records the name once the invocation has ended. */
  const tracker = () => {
    const order: string[] = [];
    return {
      order,
      track: (name: string, invocation: Promise<unknown>) => invocation.then(() => void order.push(name)),
    };
  };

  it('gives a freed environment to a waiting request before background work that waited longer, once background work has its share', async () => {
    const { lambda } = service([spec(), other()], { environments: 2, backgroundEnvironments: 1 });
    await warm(lambda, 'Probe');
    await warm(lambda, 'Fanout', 1, 'background');
    const { order, track } = tracker();
    const bg = (id: number, event: object = {}) =>
      track(`fanout ${id}`, lambda.invoke('Fanout', { id, ...event }, 'background'));
    const req = (id: number, event: object = {}) =>
      track(`request ${id}`, lambda.invoke('Probe', { id, ...event }));
    // Background work runs in one environment (its share), a request in the other, until the test ends them.
    const [fanout0, request0] = [held(), held()];
    const running = [bg(0, { holdUntil: fanout0.holdUntil }), req(0, { holdUntil: request0.holdUntil })];
    const waiting = [bg(1), bg(2), req(1), req(2)];
    expect(lambda.backlog()).toEqual({ request: 2, background: 2 });
    request0.release();
    await Promise.all(waiting);
    fanout0.release();
    await Promise.all(running);
    // The environment the request freed served the waiting requests first, then the waiting background work.
    expect(order).toEqual(['request 0', 'request 1', 'request 2', 'fanout 1', 'fanout 2', 'fanout 0']);
  });

  it('keeps background work going in its share of the environments while requests wait', async () => {
    const { lambda } = service([spec(), other()], { environments: 2, backgroundEnvironments: 1 });
    await warm(lambda, 'Probe', 2);
    await warm(lambda, 'Fanout', 1, 'background');
    const { order, track } = tracker();
    const req = (id: number, event: object = {}) =>
      track(`request ${id}`, lambda.invoke('Probe', { id, ...event }));
    const [request0, request1] = [held(), held()];
    const running = [req(0, { holdUntil: request0.holdUntil }), req(1, { holdUntil: request1.holdUntil })];
    const waiting = [req(2), req(3), track('fanout', lambda.invoke('Fanout', { id: 9 }, 'background'))];
    expect(lambda.backlog()).toEqual({ request: 2, background: 1 });
    request1.release();
    await Promise.all(waiting);
    request0.release();
    await Promise.all(running);
    // The first environment freed went to the fan-out, though requests had waited longer.
    expect(order).toEqual(['request 1', 'fanout', 'request 2', 'request 3', 'request 0']);
  });

  it('does not start a waiting invocation whose caller stopped waiting (the gateway timed out) before its turn', async () => {
    const { lambda } = service([spec()], { environments: 1 });
    await warm(lambda, 'Probe');
    const first = held();
    const running = lambda.invoke('Probe', { id: 1, holdUntil: first.holdUntil });
    const late = errorOf(lambda.invoke('Probe', { id: 2 }, 'request', Date.now() + 50));
    const inTime = lambda.invoke('Probe', { id: 3 }, 'request', Date.now() + 600_000);
    expect(lambda.backlog()).toEqual({ request: 2, background: 0 });
    await sleep(100);
    first.release();
    const [, error, third] = await Promise.all([running, late, inTime]);
    expect(error.name).toBe('CallerGone');
    // The one environment served the warm-up, the first invocation and then the third: the late one never ran.
    expect(third).toMatchObject({ id: 3, count: 3 });
  });

  it('starts a waiting request whose caller does not count the wait here (the gateway), and tells it how long it waited', async () => {
    const { lambda } = service([spec()], { environments: 1 });
    await warm(lambda, 'Probe');
    const first = held();
    const running = lambda.invoke('Probe', { id: 1, holdUntil: first.holdUntil });
    const heard: string[] = [];
    const wait = {
      queued: () => void heard.push('queued'),
      started: (waitedMs: number) => void heard.push(waitedMs >= 100 ? 'started after its wait' : 'started'),
    };
    const patient = lambda.invoke('Probe', { id: 2 }, 'request', Date.now() + 50, undefined, wait);
    await sleep(100);
    first.release();
    const [, second] = await Promise.all([running, patient]);
    // Its 50 ms ran out while it waited for the one environment; the wait does not count, so it ran.
    expect(second).toMatchObject({ id: 2, count: 3 });
    expect(heard).toEqual(['queued', 'started after its wait']);
  });

  it('counts a bundle loading in its turn as the wait of a caller that does not count the wait here (the gateway)', async () => {
    // Two cold functions whose bundles load until the test lets them. With one environment for the machine, the
    // first loads outside the turns; the second's invocation then gets the turn and loads its bundle in it.
    const loading = held();
    writeFileSync(join(dir, 'slow.js'), SLOW_INIT);
    const slow = (logicalId: string) =>
      spec({
        logicalId,
        name: logicalId.toLowerCase(),
        arn: `arn:aws:lambda:us-east-1:123456789012:function:${logicalId.toLowerCase()}`,
        bundlePath: join(dir, 'slow.js'),
        environment: { LOADED_WHEN: loading.holdUntil },
      });
    const { lambda } = service([slow('SlowA'), slow('SlowB')], { environments: 1 });
    const first = lambda.invoke('SlowA', { id: 1 });
    const heard: string[] = [];
    const wait = {
      queued: () => void heard.push('queued'),
      started: (waitedMs: number) => void heard.push(waitedMs >= 100 ? 'started after its wait' : 'started'),
    };
    const second = lambda.invoke('SlowB', { id: 2 }, 'request', Date.now() + 600_000, undefined, wait);
    await sleep(100);
    loading.release();
    await Promise.all([first, second]);
    // Its cold start is this machine's (seconds on a loaded one), not AWS's: it is heard of as waiting, not running.
    expect(heard).toEqual(['queued', 'started after its wait']);
  });

  it("serves the newest waiting request first once the oldest has used half its caller's patience", async () => {
    const { lambda } = service([spec()], { environments: 1 });
    const first = held();
    const order: string[] = [];
    const settled = (name: string, invocation: Promise<unknown>) =>
      invocation.then(
        () => void order.push(name),
        () => void order.push(`${name} dropped`),
      );
    const running = lambda.invoke('Probe', { id: 0, holdUntil: first.holdUntil });
    const oldest = settled('oldest', lambda.invoke('Probe', { id: 1 }, 'request', Date.now() + 200));
    const older = settled('older', lambda.invoke('Probe', { id: 2 }, 'request', Date.now() + 600_000));
    await sleep(120);
    const newest = settled('newest', lambda.invoke('Probe', { id: 3 }, 'request', Date.now() + 600_000));
    first.release();
    await Promise.all([running, oldest, older, newest]);
    // The oldest had waited past half of its 200 ms: the newest ran first, then the next newest; the oldest last
    // (run, or dropped if its caller had stopped waiting by then).
    expect(order.slice(0, 2)).toEqual(['newest', 'older']);
    expect(order[2]).toMatch(/^oldest/);
  });

  it('serves waiting work of one kind in the order it came', async () => {
    const { lambda } = service([spec()], { environments: 1 });
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((id) => lambda.invoke('Probe', { id, waitMs: 5 }).then(() => order.push(id))),
    );
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it("serves one connection's waiting requests in turn with another's: a flood from one waits behind itself", async () => {
    const { lambda } = service([spec()], { environments: 1 });
    const first = held();
    const { order, track } = tracker();
    const from = (connectionId: string, id: number) => ({ id, requestContext: { connectionId } });
    const running = lambda.invoke('Probe', { ...from('flood', 0), holdUntil: first.holdUntil });
    const flood = [1, 2, 3, 4, 5].map((id) =>
      track(`flood ${id}`, lambda.invoke('Probe', from('flood', id))),
    );
    const other = track('other', lambda.invoke('Probe', from('other', 6)));
    first.release();
    await Promise.all([running, ...flood, other]);
    // The other connection's one request goes first: its connection was served less recently than the flood's.
    expect(order).toEqual(['other', 'flood 1', 'flood 2', 'flood 3', 'flood 4', 'flood 5']);
  });

  it("serves one person's requests from many connections in turn with another person's: ten tabs wait behind each other", async () => {
    const { lambda } = service([spec()], { environments: 1 });
    const first = held();
    const { order, track } = tracker();
    const from = (connectionId: string, id: number) => ({ id, requestContext: { connectionId } });
    const running = lambda.invoke(
      'Probe',
      { ...from('tab0', 0), holdUntil: first.holdUntil },
      'request',
      undefined,
      'user:alice',
    );
    const tabs = [1, 2, 3, 4, 5].map((id) =>
      track(`alice ${id}`, lambda.invoke('Probe', from(`tab${id}`, id), 'request', undefined, 'user:alice')),
    );
    const bob = track('bob', lambda.invoke('Probe', from('bob', 6), 'request', undefined, 'user:bob'));
    first.release();
    await Promise.all([running, ...tabs, bob]);
    // Bob's one request goes first: his person was served less recently than alice's, whichever tab asked.
    expect(order).toEqual(['bob', 'alice 1', 'alice 2', 'alice 3', 'alice 4', 'alice 5']);
  });

  // One cloud with sign-in for the three tests of the gateway's events (a cloud start is seconds of CPU): each test
  // reads only the invocations made since it began, and leaves the cloud settled.
  const secret = 'local-lambda-gateway-secret-0123456789abcdef';
  let shared: Promise<TestCloud> | undefined;
  const signedIn = () => {
    shared ??= startTestCloud({ parameters: { AuthMode: 'token' }, authSecret: secret });
    return shared;
  };
  afterAll(async () => {
    await (await shared?.catch(() => undefined))?.cloud.close();
  });
  const tokenOf = (sub: string) =>
    hs256Token({ sub, username: sub, exp: Math.floor(Date.now() / 1000) + 600 }, secret);

  it("gives a signed-in person's connections one caller between them, and another person another", async () => {
    const testCloud = await signedIn();
    const { cloud } = testCloud;
    const mark = testCloud.invocations.length;
    const as = (sub: string) => ChatClient.connect(`${cloud.wsUrl}?token=${tokenOf(sub)}`);
    const clients = [await as('ada'), await as('ada'), await as('ben')];
    try {
      for (const client of clients) await client.ask({ action: 'listrooms' });
      const callers = testCloud.invocations
        .slice(mark)
        .filter((i) => i.routeKey !== undefined && !i.routeKey.startsWith('$'))
        .map((i) => i.caller);
      expect(callers).toHaveLength(3);
      expect(callers[0]).toMatch(/^user:/);
      expect(callers[1]).toBe(callers[0]);
      expect(callers[2]).toMatch(/^user:/);
      expect(callers[2]).not.toBe(callers[0]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      // Their $disconnects end here, not in the next test's record of events.
      await testCloud.settle();
    }
  });

  it("puts the $connect authorizer's context in every later event of the connection, as API Gateway does", async () => {
    const testCloud = await signedIn();
    const { cloud } = testCloud;
    const seen: { routeKey?: string; authorizer?: Record<string, unknown> }[] = [];
    const invoke = cloud.lambda.invoke.bind(cloud.lambda);
    cloud.lambda.invoke = (fn, event, ...rest) => {
      const context = (
        event as { requestContext?: { routeKey?: string; authorizer?: Record<string, unknown> } }
      ).requestContext;
      if (context?.routeKey) seen.push({ routeKey: context.routeKey, authorizer: context.authorizer });
      return invoke(fn, event, ...rest);
    };
    const client = await ChatClient.connect(`${cloud.wsUrl}?token=${tokenOf('cyd')}`);
    try {
      await client.ask({ action: 'listrooms' });
      await client.close();
      await testCloud.settle();
      // The route's own function's event: the last of its route key ($connect's authorizer is invoked first).
      const userIdIn = (routeKey: string) =>
        seen.filter((e) => e.routeKey === routeKey).at(-1)?.authorizer?.userId;
      expect(userIdIn('$connect')).toMatch(/^user:/);
      expect(userIdIn('listrooms')).toBe(userIdIn('$connect'));
      expect(userIdIn('$disconnect')).toBe(userIdIn('$connect'));
    } finally {
      cloud.lambda.invoke = invoke;
    }
  });

  it("invokes the routes and authorizers as requests, and the fan-out state machine's tasks as background work", async () => {
    const testCloud = await signedIn();
    const { cloud } = testCloud;
    const mark = testCloud.invocations.length;
    const client = await ChatClient.connect(`${cloud.wsUrl}?token=${tokenOf('kinds')}`);
    try {
      await client.expectReply({ action: 'sendmessage', message: 'who waits?' });
      await testCloud.settle();
      const kinds = new Map(testCloud.invocations.slice(mark).map((i) => [i.logicalId, i.kind]));
      expect(kinds.get('MessagesFunction')).toBe('request');
      expect(kinds.get('ConnectionFunction')).toBe('request');
      expect(kinds.get('DeliverFunction')).toBe('background');
    } finally {
      await client.close();
    }
  });
});

describe('local Lambda: throttling', () => {
  it('throttles beyond ReservedConcurrentExecutions with TooManyRequestsException, and admits again after', async () => {
    // More environments than the reservation, so the third invocation meets the reservation, not a full machine.
    const { lambda } = service([spec({ reservedConcurrency: 2 })], { environments: 4 });
    // The two run until released, and the third is invoked once both execute, whatever the machine's load.
    const hold = held();
    const running = [
      lambda.invoke('Probe', { id: 1, holdUntil: hold.holdUntil }),
      lambda.invoke('Probe', { id: 2, holdUntil: hold.holdUntil }),
    ];
    await until(() => (lambda.stats().environments.Probe?.executing ?? 0) === 2);
    const refused = await errorOf(lambda.invoke('Probe', { id: 3 }));
    hold.release();
    expect(refused.name).toBe('TooManyRequestsException');
    expect(refused.message).toBe('Rate Exceeded.');
    expect(refused.reason).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    await Promise.all(running);
    expect(((await lambda.invoke('Probe', { id: 4 })) as Reply).id).toBe(4);
    expect(lambda.stats().throttles).toBe(1);
  });

  it('throttles every invocation of a function reserved at 0', async () => {
    const { lambda } = service([spec({ reservedConcurrency: 0 })]);
    expect((await errorOf(lambda.invoke('Probe', { id: 1 }))).name).toBe('TooManyRequestsException');
  });

  it('throttles beyond the account concurrency the invocations executing, not those waiting for an environment', async () => {
    const other = spec({
      logicalId: 'Other',
      name: 'other',
      arn: 'arn:aws:lambda:us-east-1:1:function:other',
    });
    const { lambda } = service([spec(), other], { accountConcurrency: 2, environments: 3 });
    await warm(lambda, 'Probe', 2);
    await warm(lambda, 'Other');
    const hold = held();
    const running = [
      lambda.invoke('Probe', { id: 1, holdUntil: hold.holdUntil }),
      lambda.invoke('Other', { id: 2, holdUntil: hold.holdUntil }),
    ];
    const executing = (fn: string) => lambda.stats().environments[fn]?.executing ?? 0;
    await until(() => executing('Probe') === 1 && executing('Other') === 1);
    const refused = await errorOf(lambda.invoke('Probe', { id: 3 }));
    hold.release();
    expect(refused.name).toBe('TooManyRequestsException');
    expect(refused.reason).toBe('ConcurrentInvocationLimitExceeded');
    await Promise.all(running);
    expect(((await lambda.invoke('Other', { id: 4 })) as Reply).id).toBe(4);
  });

  it('has no concurrency cap per function: a flood beyond the environments waits its turn, none is refused', async () => {
    const { lambda } = service([spec()], { environments: 4 });
    await warm(lambda, 'Probe', 4);
    const flood = Array.from({ length: 150 }, (_, id) => lambda.invoke('Probe', { id, waitMs: 1 }));
    expect(lambda.backlog().request).toBe(146);
    expect(((await Promise.all(flood)) as Reply[]).map((r) => r.id)).toEqual([...Array(150).keys()]);
    expect(lambda.stats().throttles).toBe(0);
  });

  it('refuses a template that leaves the account fewer than 100 unreserved, as Lambda does', () => {
    expect(() => service([spec({ reservedConcurrency: 950 })])).toThrow(/below its minimum value of \[100\]/);
  });

  it('answers an unknown function with ResourceNotFoundException', async () => {
    const { lambda } = service([spec()]);
    expect((await errorOf(lambda.invoke('Nope', {}))).name).toBe('ResourceNotFoundException');
  });
});

describe('local Lambda: what Step Functions sees', () => {
  const machine = (lambda: LocalLambda) =>
    new LocalStateMachine(
      'probe-machine',
      {
        StartAt: 'Call',
        States: {
          Call: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
            Catch: [
              { ErrorEquals: ['Lambda.TooManyRequestsException'], ResultPath: '$.caught', Next: 'Throttled' },
              { ErrorEquals: ['Sandbox.Timedout'], ResultPath: '$.caught', Next: 'TimedOut' },
            ],
            End: true,
          },
          Throttled: { Type: 'Pass', Result: 'throttled', End: true },
          TimedOut: { Type: 'Pass', Result: 'timed out', End: true },
        },
      },
      // The machine has no DynamoDB task; the client is never used.
      {
        invokeFunction: forStepFunctions((fn, payload) => lambda.invoke(fn, payload)),
        dynamodb: {} as never,
      },
    );

  it('a throttled invoke is Lambda.TooManyRequestsException to a Catch', async () => {
    const { lambda } = service([spec({ reservedConcurrency: 0 })]);
    const summary = await machine(lambda).execute({ id: 1 });
    expect(summary).toMatchObject({ ok: true, output: 'throttled' });
  });

  it('a timed-out function is Sandbox.Timedout to a Catch', async () => {
    const { lambda } = service([spec({ timeoutSeconds: 1 })]);
    const summary = await machine(lambda).execute({ id: 1, forever: true });
    expect(summary).toMatchObject({ ok: true, output: 'timed out' });
  });
});

describe('local Lambda: timeouts', () => {
  it('stops an invocation past its timeout (even a busy loop) and discards its environment', async () => {
    const { lambda, logs } = service([spec({ timeoutSeconds: 1 })]);
    const warm = (await lambda.invoke('Probe', { id: 1 })) as Reply;
    // The handler loops forever: that the invocation settles at all shows it was stopped.
    const error = await errorOf(lambda.invoke('Probe', { id: 2, forever: true }));
    expect(error.name).toBe('Sandbox.Timedout');
    expect(error.message).toBe('Task timed out after 1.00 seconds');
    expect(logs.some((l) => l.includes('Task timed out after 1.00 seconds'))).toBe(true);
    // The next invocation gets a fresh environment: new thread, module state from scratch.
    const next = (await lambda.invoke('Probe', { id: 3 })) as Reply;
    expect(next.threadId).not.toBe(warm.threadId);
    expect(next.count).toBe(1);
  });

  it('gives a waiting invocation a fresh environment when the one it waited for timed out', async () => {
    const { lambda } = service([spec({ timeoutSeconds: 1 })], { environments: 1 });
    const stuck = errorOf(lambda.invoke('Probe', { id: 1, forever: true }));
    const waiting = lambda.invoke('Probe', { id: 2 });
    expect((await stuck).name).toBe('Sandbox.Timedout');
    expect(((await waiting) as Reply).count).toBe(1);
  });
});

describe('local Lambda: idle environments', () => {
  it('stops environments idle past idleEnvironmentMs; the next invocation is a cold start', async () => {
    const { lambda, logs } = service([spec()], { idleEnvironmentMs: 100 });
    const first = (await lambda.invoke('Probe', { id: 1 })) as Reply;
    // Stopped once idle past 100 ms, whenever a loaded machine gets to it; the environment then is gone.
    await until(() => lambda.stats().environments.Probe?.total === 0);
    const second = (await lambda.invoke('Probe', { id: 2 })) as Reply;
    expect(second.count).toBe(1);
    expect(second.threadId).not.toBe(first.threadId);
    expect(logs.filter((l) => l.includes('INIT (cold start)'))).toHaveLength(2);
  });

  it('keeps at most maxIdleEnvironments idle, stopping the least recently used', async () => {
    // Five environments at once (atOnce), whatever the machine's load, then all five idle: two are kept.
    const { lambda } = service([spec()], { maxIdleEnvironments: 2, environments: 5 });
    await atOnce(lambda, 'Probe', 5);
    const { total, idle } = lambda.stats().environments.Probe ?? { total: -1, idle: -1 };
    expect(idle).toBe(2);
    expect(total).toBe(2);
  });
});

describe('local Lambda: cold starts', () => {
  it("loads a cold function's environment outside the turns: a warm function's invocation does not wait for it", async () => {
    // A bundle whose load (a cold start) lasts until the test ends it, without using a core meanwhile.
    const loaded = join(dir, `slow-init-loaded-${randomUUID()}`);
    const slowFile = join(dir, 'slow-init.js');
    writeFileSync(
      slowFile,
      `while (!require('node:fs').existsSync(${JSON.stringify(loaded)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);\n${HANDLER}`,
    );
    const slow = spec({
      logicalId: 'Slow',
      name: 'slow',
      arn: 'arn:aws:lambda:us-east-1:123456789012:function:slow',
      bundlePath: slowFile,
    });
    const { lambda } = service([spec(), slow], { environments: 1 });
    await warm(lambda, 'Probe');
    const order: string[] = [];
    const cold = lambda.invoke('Slow', { id: 1 }).then(() => order.push('slow'));
    // The probe is answered while the slow function is still loading: had its one environment been held by that cold
    // start, the probe would wait for ever and the test fail on its timeout.
    await lambda.invoke('Probe', { id: 2 }).then(() => order.push('probe'));
    writeFileSync(loaded, '');
    await cold;
    expect(order).toEqual(['probe', 'slow']);
    expect(lambda.stats().environments.Slow?.total).toBe(1);
  });
});

describe('local Lambda: shutting down', () => {
  it('refuses invocations still waiting for an environment and starts no thread after close', async () => {
    const { lambda } = service([spec()], { environments: 1 });
    const running = errorOf(lambda.invoke('Probe', { id: 1, holdUntil: held().holdUntil }));
    const waiting = errorOf(lambda.invoke('Probe', { id: 2 }));
    await until(() => lambda.stats().environments.Probe?.executing === 1);
    await lambda.close();
    expect((await running).name).toBe('Runtime.ExitError');
    expect((await waiting).name).toBe('Runtime.ExitError');
    // A thread started after close would keep the process (and Jest, and CI) alive.
    expect(lambda.stats().environments.Probe?.total).toBe(0);
  });
});
