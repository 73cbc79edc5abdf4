/**
 * What Lambda does with an asynchronous invocation once it has accepted the event (an EventBridge rule's function
 * target): the caller is done with it, and the function's own settings decide (Lambda developer guide, "Invoking a
 * Lambda function asynchronously"). A throttle or a service error (429, 5xx) is tried again with back-off until the
 * event is older than MaximumEventAgeInSeconds; a function error (the handler threw, a timeout) is tried again
 * MaximumRetryAttempts times, one minute before the first retry and two before the second. What is still not run goes
 * to the function's dead-letter queue, the event unchanged as the body, why in the attributes `RequestID`, `ErrorCode`
 * (the 3-digit status) and `ErrorMessage` (≤ 1 KB), as Lambda writes it ("Adding a dead-letter queue"); without one it
 * is dropped. Either way the give-up is logged (docs/PARITY.md, "Local Lambda").
 */
import { randomUUID } from 'node:crypto';
import type { LocalFunction } from '../infra/template';
import { LambdaServiceError } from './lambda/service';
import type { LocalSqs } from './sqs';

/** Lambda's settings of a function that has no EventInvokeConfig. */
export const LAMBDA_ASYNC_DEFAULTS = { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 };
/** A function error's retries: one minute before the first, two between the first and the second. */
const ERROR_RETRY_MS = [60_000, 120_000] as const;
/** A throttle's retries: AWS says "exponential back-off" with no figures; the first after a second, doubling. */
const THROTTLE_FIRST_MS = 1000;
const THROTTLE_CAP_MS = 5 * 60_000;
/** ErrorMessage's length, at most. */
const ERROR_MESSAGE_BYTES = 1024;

export interface AsyncInvocation {
  fn: Pick<LocalFunction, 'logicalId' | 'asyncInvoke'>;
  event: unknown;
  /** One try of the function with the event. */
  invoke: (event: unknown) => Promise<unknown>;
  sqs: Pick<LocalSqs, 'has' | 'send'>;
  warn: (line: string) => void;
}

/** Runs `event` through the function as Lambda runs an accepted asynchronous invocation; never throws back. */
export function invokeAsynchronously({ fn, event, invoke, sqs, warn }: AsyncInvocation): void {
  const config = { ...LAMBDA_ASYNC_DEFAULTS, ...fn.asyncInvoke };
  const since = Date.now();
  const attempt = (errors: number, throttles: number): void => {
    invoke(event).catch((error: unknown) => {
      const status = error instanceof LambdaServiceError ? error.statusCode : 200;
      const throttled = status === 429 || status >= 500;
      const delay = throttled
        ? Math.min(THROTTLE_CAP_MS, THROTTLE_FIRST_MS * 2 ** throttles)
        : (ERROR_RETRY_MS[Math.min(errors, ERROR_RETRY_MS.length - 1)] as number);
      const more = throttled || errors < config.maximumRetryAttempts;
      if (more && Date.now() + delay - since <= config.maximumEventAgeSeconds * 1000) {
        setTimeout(
          () => attempt(throttled ? errors : errors + 1, throttled ? throttles + 1 : throttles),
          delay,
        ).unref();
        return;
      }
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      const queue = config.deadLetterArn;
      const kept = queue !== undefined && sqs.has(queue);
      warn(
        `Lambda gave up the asynchronous invocation of ${fn.logicalId} (${name}: ${message})${kept ? `; the event waits in ${queue}` : ''}`,
      );
      if (!kept) return;
      sqs.send(queue, {
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          RequestID: { DataType: 'String', StringValue: randomUUID() },
          ErrorCode: { DataType: 'Number', StringValue: String(status) },
          ErrorMessage: {
            DataType: 'String',
            StringValue: Buffer.from(message).subarray(0, ERROR_MESSAGE_BYTES).toString(),
          },
        },
      });
    });
  };
  attempt(0, 0);
}
