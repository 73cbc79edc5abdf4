import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import { LambdaServiceError } from '../../tools/local/lambda/service';
import { invokeAsynchronously } from '../../tools/local/lambdaAsync';
import { LocalSqs } from '../../tools/local/sqs';

/**
 * A push the push function never ran is kept where an operator looks, not lost: the local cloud runs the rule's
 * invocation of the push function as Lambda runs an accepted asynchronous invocation, with the template's own
 * settings (EventInvokeConfig, DeadLetterQueue), so a Push invocation that fails every try leaves one message in
 * PushDeadLetterQueue (what PushDeadLetterAlarm counts): at once for an error, which a retry would push twice, and
 * after 2 minutes of retries for a throttle.
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const push = template.functions().find((fn) => fn.logicalId === 'PushFunction');
const queue = template.queues().find((q) => q.logicalId === 'PushDeadLetterQueue');
const event = {
  source: 'roomcast.chat',
  'detail-type': 'MessageSent',
  detail: { roomId: 'R8K2M4Q7', seq: 7, mayPush: true },
};

let sqs: LocalSqs;
beforeEach(() => {
  sqs = new LocalSqs({ queues: template.queues(), region: template.region, accountId: template.accountId });
});
afterEach(() => {
  sqs.close();
  jest.useRealTimers();
});

/** What an operator reads: the queue's ApproximateNumberOfMessages. */
const waiting = () => Number(sqs.attributes(queue?.arn as string).ApproximateNumberOfMessages);

/** Runs the event through the push function's asynchronous invocation, every try failing with `error`. */
function failingEveryTry(error: Error): { tries: () => number } {
  let tries = 0;
  if (!push) throw new Error('no PushFunction in the template');
  invokeAsynchronously({
    fn: push,
    event,
    invoke: async () => {
      tries += 1;
      throw error;
    },
    sqs,
    warn: () => undefined,
  });
  return { tries: () => tries };
}

it("reads the push function's dead-letter queue from the template", () => {
  expect(push?.asyncInvoke).toEqual({
    maximumRetryAttempts: 0,
    maximumEventAgeSeconds: 120,
    deadLetterArn: queue?.arn,
  });
});

it('keeps a Push invocation that timed out, tried once, in PushDeadLetterQueue with the event as its body', async () => {
  const timedOut = Object.assign(new Error('Task timed out after 10.00 seconds'), {
    name: 'Sandbox.Timedout',
  });
  const { tries } = failingEveryTry(timedOut);
  await new Promise((resolve) => setImmediate(resolve));
  expect(waiting()).toBe(1);
  expect(tries()).toBe(1);
  const [kept] = sqs.peek(queue?.arn as string);
  expect(JSON.parse(kept?.body ?? '{}')).toEqual(event);
  expect(kept?.attributes?.ErrorMessage?.StringValue).toBe('Task timed out after 10.00 seconds');
});

it('tries a throttled Push invocation again for 2 minutes, then keeps it in PushDeadLetterQueue', async () => {
  jest.useFakeTimers();
  const { tries } = failingEveryTry(
    new LambdaServiceError('TooManyRequestsException', 'Rate Exceeded.', 429),
  );
  await jest.advanceTimersByTimeAsync(60_000);
  expect(waiting()).toBe(0);
  expect(tries()).toBeGreaterThan(1);
  await jest.advanceTimersByTimeAsync(120_000);
  expect(waiting()).toBe(1);
  expect(sqs.peek(queue?.arn as string)[0]?.attributes?.ErrorCode?.StringValue).toBe('429');
});
