import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ExecutionSummary, LocalStateMachine } from '../../tools/local/stepfunctions';
import type { StepFunctionsTestClock } from '../../tools/local/testClock';

/**
 * The local Step Functions' test clock (tools/local/testClock.ts): without it every Wait and Retry pause lasts its
 * real seconds; with it the named states' pauses last msPerSecond per second, and only theirs. Time here is Jest's
 * fake clock, so the waits are counted to the millisecond, not timed.
 */
const definition = {
  StartAt: 'Pause',
  States: {
    Pause: { Type: 'Wait', Seconds: 3, Next: 'PauseFor' },
    PauseFor: { Type: 'Wait', SecondsPath: '$.seconds', OutputPath: '$.keep', Next: 'Flaky' },
    Flaky: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:flaky',
      Retry: [{ ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 2, BackoffRate: 2 }],
      End: true,
    },
  },
};

/** Real seconds, without a clock: Pause 3, PauseFor 4, then Flaky's two retries 2 and 4. */
const INPUT = { seconds: 4, keep: { room: 'r1' } };
const REAL_MS = (3 + 4 + 2 + 4) * 1000;

/** The machine, its task throttled twice before it answers with what it was given. */
function machine(testClock?: StepFunctionsTestClock) {
  let throttles = 2;
  return new LocalStateMachine(
    'clock',
    definition,
    {
      dynamodb: {} as DynamoDBClient,
      invokeFunction: async (_fn, payload) => {
        if (throttles-- > 0)
          throw Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });
        return payload;
      },
    },
    { testClock },
  );
}

/** Starts an execution and says whether it has ended as the fake clock moves. */
function started(m: LocalStateMachine, input: unknown) {
  let summary: ExecutionSummary | undefined;
  const done = m.execute(input).then((s) => {
    summary = s;
    return s;
  });
  return { ended: () => summary !== undefined, done };
}

/** Asserts the execution is still running `ms` - 1 after its start and has ended by `ms` + 1. */
async function expectLasts(m: LocalStateMachine, ms: number): Promise<ExecutionSummary> {
  const run = started(m, INPUT);
  await jest.advanceTimersByTimeAsync(ms - 1);
  expect(run.ended()).toBe(false);
  await jest.advanceTimersByTimeAsync(2);
  expect(run.ended()).toBe(true);
  return run.done;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

it('without a clock every Wait and Retry pause lasts its real seconds', async () => {
  const summary = await expectLasts(machine(), REAL_MS);
  expect(summary).toMatchObject({ ok: true, retries: 2, output: { room: 'r1' } });
});

it("with a clock the named states' pauses last msPerSecond per second: Seconds, SecondsPath and the Retry's backoff", async () => {
  const summary = await expectLasts(
    machine({ msPerSecond: 10, states: ['Pause', 'PauseFor', 'Flaky'] }),
    REAL_MS / 100,
  );
  // The same execution otherwise: the SecondsPath Wait's OutputPath applied, the task retried twice.
  expect(summary).toMatchObject({ ok: true, retries: 2, output: { room: 'r1' } });
  expect(summary.states).toEqual(['Pause', 'PauseFor', 'Flaky']);
});

it('a state the clock does not name keeps real time', async () => {
  await expectLasts(machine({ msPerSecond: 10, states: ['Pause', 'PauseFor'] }), 30 + 40 + 6000);
});

it('a SecondsPath that is not an integer >= 0 fails the execution as it does without the clock', async () => {
  const outcomes = [];
  for (const clock of [undefined, { msPerSecond: 10, states: ['PauseFor'] }]) {
    for (const seconds of [1.5, -1, '2']) {
      const run = started(machine(clock), { ...INPUT, seconds });
      // Time enough to end either way: a wrongly accepted wait would go on and succeed.
      await jest.advanceTimersByTimeAsync(REAL_MS);
      const { ok, error, failedState } = await run.done;
      outcomes.push({ ok, error, failedState });
    }
  }
  expect(outcomes).toEqual(Array(6).fill({ ok: false, error: 'States.Runtime', failedState: 'PauseFor' }));
});

it('refuses a clock that names a state the machine has not, a state without a pause, or no shorter a second', () => {
  expect(() => machine({ msPerSecond: 10, states: ['Nowhere'] })).toThrow(
    '"Nowhere", which the machine has not',
  );
  expect(
    () =>
      new LocalStateMachine(
        'clock',
        { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
        { dynamodb: {} as DynamoDBClient, invokeFunction: async () => ({}) },
        { testClock: { msPerSecond: 10, states: ['P'] } },
      ),
  ).toThrow('"P", which has no Wait or Retry');
  for (const msPerSecond of [0, -5, 1001, Number.NaN])
    expect(() => machine({ msPerSecond, states: ['Pause'] })).toThrow('above 0 and at most 1000');
});
