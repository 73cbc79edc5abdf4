import { capturedStdout } from '../helpers/emf';

/**
 * An event the chat bus refused is counted as PublishFailures (alarmed, template.yaml PublishFailuresAlarm) on the
 * REST side too: an admin broadcast that was never published is seen by the operator, not only by the caller's 503.
 * Observed as CloudWatch sees it: the EMF lines Powertools writes at the end of the invocation.
 */
type Rest = typeof import('#core/rest');
type Errors = typeof import('#core/errors');
let rest: Rest;
let errors: Errors;
const stdout = capturedStdout(['error', 'warn']);

beforeAll(() => {
  // Unit tests keep metrics off (tests/setup/env.ts); this file is about them.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.BROADCAST_ALLOWED_ORIGIN ??= 'https://chat.example.com';
  jest.isolateModules(() => {
    rest = require('#core/rest') as Rest;
    errors = require('#core/errors') as Errors;
  });
});
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

/** The PublishFailures values written, one per EMF document that carries the metric. */
function publishFailures(): number[] {
  return stdout
    .documents()
    .filter((doc) => 'PublishFailures' in doc)
    .map((doc) => doc.PublishFailures as number);
}

const event = { requestContext: { requestId: 'r-1' }, headers: {}, body: '{}' } as never;

it('counts one PublishFailures when the bus refused the event, and answers 503', async () => {
  const handler = rest.restHandler('broadcast', async () => {
    throw new errors.PublishFailed('1 of 1 entries failed: ThrottlingException', 1);
  });
  const reply = await handler(event);
  expect(reply.statusCode).toBe(503);
  expect(publishFailures()).toEqual([1]);
});

it('counts none for any other failure', async () => {
  const handler = rest.restHandler('broadcast', async () => {
    throw new Error('DynamoDB unavailable');
  });
  const reply = await handler(event);
  expect(reply.statusCode).toBe(500);
  expect(publishFailures()).toEqual([]);
});
