import { EXPRESS_LIMIT_SECONDS, LocalStateMachine } from '../../tools/local/stepfunctions';

/**
 * On AWS a Task without TimeoutSeconds waits as long as its execution may (Express: 5 minutes); the local engine's
 * own default would fail it after 60 s with States.Timeout. Under overload a fan-out's Deliver task can wait that
 * long for a throttled Lambda, so the local cloud gives such Tasks AWS's behaviour.
 */
afterEach(() => {
  jest.useRealTimers();
});

const machine = (invokeFunction: () => Promise<unknown>, timeoutSeconds?: number) =>
  new LocalStateMachine(
    'slow-task',
    {
      StartAt: 'Slow',
      States: {
        Slow: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:us-east-1:123456789012:function:slow',
          ...(timeoutSeconds !== undefined && { TimeoutSeconds: timeoutSeconds }),
          End: true,
        },
      },
    },
    // No DynamoDB task: the client is never used.
    { invokeFunction, dynamodb: {} as never },
  );

/** Runs the machine with a task that answers after `answerAfterMs` of fake time. */
async function run(answerAfterMs: number, timeoutSeconds?: number) {
  jest.useFakeTimers();
  let answer: (value: unknown) => void = () => undefined;
  const slow = machine(
    () =>
      new Promise((resolve) => {
        answer = resolve;
      }),
    timeoutSeconds,
  );
  const running = slow.execute({});
  await jest.advanceTimersByTimeAsync(answerAfterMs);
  answer({ delivered: true });
  await jest.advanceTimersByTimeAsync(10);
  return running;
}

it('a Task without TimeoutSeconds still succeeds when it answers after two minutes', async () => {
  expect(await run(120_000)).toMatchObject({ ok: true, output: { delivered: true } });
});

it("a Task's own TimeoutSeconds still fails it with States.Timeout", async () => {
  expect(await run(120_000, 30)).toMatchObject({ ok: false, error: 'States.Timeout' });
});

describe('Express', () => {
  const express = (invokeFunction: () => Promise<unknown>) =>
    new LocalStateMachine(
      'express',
      {
        StartAt: 'Slow',
        States: {
          Slow: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:slow', End: true },
        },
      },
      { invokeFunction, dynamodb: {} as never },
      { type: 'EXPRESS' },
    );

  it('an execution still running after 5 minutes is stopped with States.Timeout, its task unanswered', async () => {
    jest.useFakeTimers();
    const running = express(() => new Promise(() => undefined)).execute({});
    await jest.advanceTimersByTimeAsync(EXPRESS_LIMIT_SECONDS * 1000 + 10);
    expect(await running).toMatchObject({ ok: false, error: 'States.Timeout' });
  });

  it('an execution that ends just inside 5 minutes succeeds', async () => {
    jest.useFakeTimers();
    const running = express(
      () =>
        new Promise((resolve) =>
          setTimeout(() => resolve({ done: true }), EXPRESS_LIMIT_SECONDS * 1000 - 1000),
        ),
    ).execute({});
    await jest.advanceTimersByTimeAsync(EXPRESS_LIMIT_SECONDS * 1000 + 10);
    expect(await running).toMatchObject({ ok: true, output: { done: true } });
  });
});

describe('a Lambda response lost on its way back (fault switch)', () => {
  it('the function ran, the state sees Lambda.ServiceException and its Retry runs the function again', async () => {
    let runs = 0;
    let lose = 1;
    const retried = new LocalStateMachine(
      'lost',
      {
        StartAt: 'Step',
        States: {
          Step: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:123456789012:function:step',
            Retry: [{ ErrorEquals: ['Lambda.ServiceException'], IntervalSeconds: 0, MaxAttempts: 2 }],
            End: true,
          },
        },
      },
      {
        invokeFunction: async () => ({ run: ++runs }),
        dynamodb: {} as never,
        lambdaResponseLost: (state) => state === 'Step' && lose-- > 0,
      },
    );
    expect(await retried.execute({})).toMatchObject({ ok: true, retries: 1, output: { run: 2 } });
    expect(runs).toBe(2);
  });
});
