import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PAYLOAD_LIMIT_BYTES } from '../../tools/local/payloadLimit';
import { LocalStateMachine } from '../../tools/local/stepfunctions';

/**
 * Step Functions' payload quota in the local engine: 262,144 bytes of UTF-8 JSON for execution input, state input
 * after Parameters, state output, task results and Map item inputs; over it, the terminal States.DataLimitExceeded,
 * which no Retry and no States.ALL Catch matches. Each machine here makes one kind of oversized payload and counts
 * what ran after it, because on AWS nothing downstream runs.
 */
const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:work';
const db = new DynamoDBClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
});

/** An execution input of exactly `bytes` bytes of JSON: {"text":"xxx..."}. */
const inputOf = (bytes: number, char = 'x') => ({ text: char.repeat(bytes - '{"text":""}'.length) });

function machine(definition: object, work: (payload: unknown) => unknown = (p) => p) {
  const calls: unknown[] = [];
  const local = new LocalStateMachine('limits', definition, {
    dynamodb: db,
    invokeFunction: async (_arn, payload) => {
      calls.push(payload);
      return work(payload);
    },
  });
  return { local, calls };
}

const passThenWork = {
  StartAt: 'Double',
  States: {
    Double: { Type: 'Pass', Parameters: { 'a.$': '$.text', 'b.$': '$.text' }, Next: 'Work' },
    Work: { Type: 'Task', Resource: FUNCTION, End: true },
  },
};

afterAll(() => db.destroy());

describe('execution input', () => {
  it('runs with exactly 262,144 bytes', async () => {
    const { local } = machine({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
    expect(JSON.stringify(inputOf(PAYLOAD_LIMIT_BYTES)).length).toBe(262_144);
    expect(await local.execute(inputOf(PAYLOAD_LIMIT_BYTES))).toMatchObject({ ok: true });
  });

  it('fails with one byte more, before any state runs', async () => {
    // Choice and Succeed only pass data on, so nothing but the execution input check can refuse it.
    const { local } = machine({
      StartAt: 'Route',
      States: {
        Route: {
          Type: 'Choice',
          Choices: [{ Variable: '$.text', IsPresent: true, Next: 'Done' }],
          Default: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    });
    const run = await local.execute(inputOf(PAYLOAD_LIMIT_BYTES + 1));
    expect(run).toMatchObject({ ok: false, error: 'States.DataLimitExceeded' });
    expect(run.failedState).toBeUndefined();
    expect(run.cause).toMatch(/execution input has 262145 bytes/);
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const { local } = machine({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
    // 131,068 characters of "é" are 262,136 UTF-8 bytes: over the limit with the 11 bytes around them.
    const input = { text: 'é'.repeat(131_068) };
    expect(JSON.stringify(input).length).toBeLessThan(PAYLOAD_LIMIT_BYTES);
    expect(await local.execute(input)).toMatchObject({ ok: false, error: 'States.DataLimitExceeded' });
  });
});

describe('state output', () => {
  it('fails in the state whose output is too large, and the next state never runs', async () => {
    const { local, calls } = machine(passThenWork);
    const run = await local.execute(inputOf(140_000));
    expect(run).toMatchObject({ ok: false, error: 'States.DataLimitExceeded', failedState: 'Double' });
    expect(run.cause).toMatch(/output of state 'Double' has \d+ bytes/);
    expect(calls).toHaveLength(0);
  });

  it('lets the same machine run when the output fits', async () => {
    const { local, calls } = machine(passThenWork);
    expect(await local.execute(inputOf(100_000))).toMatchObject({ ok: true });
    expect(calls).toHaveLength(1);
  });

  it('checks the output after ResultPath merges a task result into the input', async () => {
    const { local, calls } = machine(
      {
        StartAt: 'Work',
        States: {
          Work: { Type: 'Task', Resource: FUNCTION, ResultPath: '$.result', Next: 'After' },
          After: { Type: 'Task', Resource: FUNCTION, End: true },
        },
      },
      () => 'y'.repeat(140_000),
    );
    const run = await local.execute(inputOf(140_000));
    expect(run).toMatchObject({ ok: false, error: 'States.DataLimitExceeded', failedState: 'Work' });
    expect(calls).toHaveLength(1);
  });
});

describe('task', () => {
  const retryAndCatchAll = {
    StartAt: 'Work',
    States: {
      Work: {
        Type: 'Task',
        Resource: FUNCTION,
        Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3, IntervalSeconds: 0 }],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
        End: true,
      },
      Caught: { Type: 'Task', Resource: FUNCTION, End: true },
    },
  };

  it('fails on a result over the limit, terminally: no retry, no States.ALL catch', async () => {
    const { local, calls } = machine(retryAndCatchAll, () => ({ rows: 'r'.repeat(PAYLOAD_LIMIT_BYTES) }));
    const run = await local.execute({});
    expect(run).toMatchObject({
      ok: false,
      error: 'States.DataLimitExceeded',
      failedState: 'Work',
      retries: 0,
    });
    expect(run.cause).toBe(
      "The state/task 'Work' returned a result with a size exceeding the maximum number of bytes service limit.",
    );
    expect(calls).toHaveLength(1);
  });

  it('fails on an input over the limit after Parameters, without calling the resource', async () => {
    const { local, calls } = machine({
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Task',
          Resource: FUNCTION,
          Parameters: { 'a.$': '$.text', 'b.$': '$.text' },
          End: true,
        },
      },
    });
    const run = await local.execute(inputOf(140_000));
    expect(run).toMatchObject({ ok: false, error: 'States.DataLimitExceeded', failedState: 'Work' });
    expect(calls).toHaveLength(0);
  });
});

describe('Map', () => {
  const map = {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemSelector: { 'item.$': '$$.Map.Item.Value', 'a.$': '$.text', 'b.$': '$.text' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: FUNCTION, ResultPath: null, End: true } },
        },
        ResultPath: null,
        End: true,
      },
    },
  };

  it('fails when an item input after ItemSelector is over the limit, before the item is processed', async () => {
    const { local, calls } = machine(map);
    const run = await local.execute({ items: [1, 2], ...inputOf(140_000) });
    expect(run).toMatchObject({ ok: false, error: 'States.DataLimitExceeded', failedState: 'Each' });
    expect(run.cause).toMatch(/item input of Map state 'Each'/);
    expect(calls).toHaveLength(0);
  });

  it('processes every item when they fit', async () => {
    const { local, calls } = machine(map);
    expect(await local.execute({ items: [1, 2], ...inputOf(100_000) })).toMatchObject({ ok: true });
    expect(calls).toHaveLength(2);
  });
});
