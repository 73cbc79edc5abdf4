import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC } from '#platform/powertools';
import { loadTemplate } from '../../tools/infra/template';
import { expectNotifiesTopic, metricsOf, props } from '../helpers/templateAlarms';

/**
 * Throttling and the departure machine are watched: Lambda refusing invocations, the fan-out pipe refused
 * executions, API Gateway refusing frames before a route (ClientError: WebSocket APIs publish no throttle metric of
 * their own), the management API throttling Deliver's posts (the PostsThrottled metric post.ts emits), and departure
 * executions failing. Each watches the stack's own resource (Ref, never a typed name), notifies the alarms topic,
 * and has its row and runbook in docs/OPERATIONS.md.
 */
const root = join(__dirname, '..', '..');
const local = loadTemplate(join(root, 'template.yaml'));
const ref = (id: string) => ({ Ref: id });
const operations = readFileSync(join(root, 'docs', 'OPERATIONS.md'), 'utf8');

const ALARMS = [
  'LambdaThrottlesAlarm',
  'FanoutPipeThrottlesAlarm',
  'DepartureFailuresAlarm',
  'RouteClientErrorsAlarm',
  'PostsThrottledAlarm',
];

it.each(ALARMS)('%s notifies the alarms topic and has its row and runbook in docs/OPERATIONS.md', (id) => {
  const alarm = expectNotifiesTopic(id);
  const runbook = /docs\/OPERATIONS\.md, "([^"]+)"/.exec(String(alarm.AlarmDescription))?.[1];
  expect(runbook).toBeDefined();
  expect(operations).toContain(`### ${runbook}`);
  expect(operations).toMatch(new RegExp(`^\\| \`${id}\` \\|`, 'm'));
});

it('watches the throttles of every function, in one Metrics Insights query', () => {
  const [query] = metricsOf('LambdaThrottlesAlarm')
    .filter((m) => m.ReturnData)
    .map((m) => String(local.resolve(m.Expression)));
  expect(query).toMatch(/^SELECT SUM\(Throttles\) FROM SCHEMA\("AWS\/Lambda", FunctionName\) WHERE /);
  const watched = [...(query ?? '').matchAll(/FunctionName = '([^']+)'/g)].map((m) => m[1]);
  expect(new Set(watched)).toEqual(new Set(local.functions().map((f) => f.name)));
  // Sustained, not a burst the retries ride out: 3 minutes of 5.
  expect(props('LambdaThrottlesAlarm')).toMatchObject({
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
    Threshold: 1,
  });
});

it("watches the fan-out pipe's throttled executions, by the pipe's own name", () => {
  expect(props('FanoutPipeThrottlesAlarm')).toMatchObject({
    Namespace: 'AWS/EventBridge/Pipes',
    MetricName: 'ExecutionThrottled',
    Dimensions: [{ Name: 'PipeName', Value: ref('FanoutPipe') }],
    Statistic: 'Sum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
});

it("adds the departure machine's failed and timed-out executions, missing data as none", () => {
  const inputs = metricsOf('DepartureFailuresAlarm').filter((m) => m.MetricStat);
  expect(inputs.map((m) => m.MetricStat?.Metric.MetricName).sort()).toEqual([
    'ExecutionsFailed',
    'ExecutionsTimedOut',
  ]);
  for (const m of inputs) {
    expect(m.MetricStat?.Metric.Namespace).toBe('AWS/States');
    expect(m.MetricStat?.Metric.Dimensions).toEqual([
      { Name: 'StateMachineArn', Value: ref('DepartureStateMachine') },
    ]);
  }
  const [sum] = metricsOf('DepartureFailuresAlarm').filter((m) => m.ReturnData);
  expect(sum?.Expression).toBe(inputs.map((m) => `FILL(${m.Id}, 0)`).join(' + '));
  expect(props('DepartureFailuresAlarm')).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
});

it("watches the WebSocket stage's ClientError (its route throttle's 429s), by the stack's API and stage", () => {
  expect(props('RouteClientErrorsAlarm')).toMatchObject({
    Namespace: 'AWS/ApiGateway',
    MetricName: 'ClientError',
    Dimensions: [
      { Name: 'ApiId', Value: ref('WebSocketApi') },
      { Name: 'Stage', Value: ref('StageName') },
    ],
    Statistic: 'Sum',
  });
});

it("watches Deliver's throttled posts, under the namespace and dimension Powertools writes them with", () => {
  const alarm = props('PostsThrottledAlarm');
  expect(alarm.MetricName).toBe(METRIC.postsThrottled);
  expect(local.resolve(alarm.Namespace)).toBe(local.resolve(props('PublishFailuresAlarm').Namespace));
  expect(local.resolve(alarm.Dimensions)).toEqual(local.resolve(props('PublishFailuresAlarm').Dimensions));
  // post.ts counts them, so the alarm watches a metric that exists.
  expect(readFileSync(join(root, 'functions', 'deliver', 'post.ts'), 'utf8')).toContain(
    'METRIC.postsThrottled',
  );
});
