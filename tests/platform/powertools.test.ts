import type { Context } from 'aws-lambda';
import { capturedStdout } from '../helpers/emf';

/**
 * Every handler runs inside Powertools' middleware (functions/platform/powertools.ts, put around each entry point by
 * `instrumented`, functions/platform/invocation.ts): its metrics reach CloudWatch as
 * EMF lines on stdout, and a new execution environment's first invocation adds a ColdStart metric for its function.
 */
type Powertools = typeof import('#platform/powertools') & typeof import('#platform/invocation');
let powertools: Powertools;
const stdout = capturedStdout(['warn']);

beforeAll(() => {
  // Unit tests keep metrics off (tests/setup/env.ts); this file is about them. Lambda sets the initialization
  // type of an on-demand environment, the only kind roomcast uses; Powertools counts cold starts only there.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  jest.isolateModules(() => {
    // One registry for both: the wrapper must flush the very metrics object the handler counts into.
    powertools = {
      ...require('#platform/powertools'),
      ...require('#platform/invocation'),
    } as Powertools;
  });
});
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
});

const context = {
  functionName: 'test-MessagesFunction',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** The EMF documents written: metric names with their dimensions' values. */
function emitted(): { names: string[]; dimensions: Record<string, unknown> }[] {
  return stdout
    .documents()
    .map((doc) => doc as { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } })
    .map((doc) => ({
      names: doc._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((metric) => metric.Name)),
      dimensions: doc as unknown as Record<string, unknown>,
    }));
}

it('counts a cold start on the first invocation only, with the function and service as dimensions', async () => {
  const { instrumented, metrics, METRIC, MetricUnit } = powertools;
  const handler = instrumented(async (event: { n: number }) => {
    metrics.addMetric(METRIC.messagesSent, MetricUnit.Count, event.n);
    return event.n;
  });
  await expect(handler({ n: 1 }, context)).resolves.toBe(1);
  const first = emitted();
  const coldStart = first.find((doc) => doc.names.includes(METRIC.coldStart));
  expect(coldStart?.dimensions).toMatchObject({
    function_name: 'test-MessagesFunction',
    service: 'roomcast',
    ColdStart: 1,
  });
  expect(first.some((doc) => doc.names.includes(METRIC.messagesSent))).toBe(true);

  stdout.written.length = 0;
  await handler({ n: 2 }, context);
  const second = emitted();
  expect(second.some((doc) => doc.names.includes(METRIC.coldStart))).toBe(false);
  expect(second.find((doc) => doc.names.includes(METRIC.messagesSent))?.dimensions).toMatchObject({
    MessagesSent: 2,
  });
});

it('flushes the metrics counted before an error, and rethrows the error', async () => {
  const { instrumented, metrics, METRIC, MetricUnit } = powertools;
  const handler = instrumented(async () => {
    metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
    throw new Error('bus down');
  });
  await expect(handler({}, context)).rejects.toThrow('bus down');
  expect(emitted().some((doc) => doc.names.includes(METRIC.publishFailures))).toBe(true);
});

it('writes nothing for an invocation that counted nothing', async () => {
  const handler = powertools.instrumented(async () => 'quiet');
  await handler({}, context);
  await handler({}, context);
  expect(emitted()).toEqual([]);
  expect(console.warn).not.toHaveBeenCalled();
});

it('gives a handler called without a Lambda context no context, so it reads no deadline', async () => {
  const seen: (Context | undefined)[] = [];
  const handler = powertools.instrumented(async (_event: unknown, ctx?: Context) => {
    seen.push(ctx);
    return 'ok';
  });
  await handler({});
  await handler({}, context);
  expect(seen).toEqual([undefined, context]);
});
