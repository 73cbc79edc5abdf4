import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC } from '#platform/powertools';
import { loadTemplate } from '../../tools/infra/template';

/** The dashboard and alarms must chart metrics that exist: the ones roomcast emits and the ones AWS publishes. */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const resources = template.raw.Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown> }
>;

const AWS_METRICS: Record<string, string[]> = {
  'AWS/ApiGateway': [
    'ConnectCount',
    'MessageCount',
    'IntegrationError',
    'ClientError',
    'ExecutionError',
    'IntegrationLatency',
  ],
  'AWS/Lambda': ['Errors', 'Duration', 'Throttles', 'Invocations', 'ConcurrentExecutions'],
  'AWS/States': [
    'ExecutionsStarted',
    'ExecutionsSucceeded',
    'ExecutionsFailed',
    'ExecutionsTimedOut',
    'ExecutionTime',
  ],
  'AWS/DynamoDB': ['ReadThrottleEvents', 'WriteThrottleEvents', 'ThrottledRequests', 'SystemErrors'],
  'AWS/SQS': ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'],
  // EventBridge user guide, "Logging and monitoring Amazon EventBridge Pipes" and "Monitoring Amazon EventBridge".
  'AWS/EventBridge/Pipes': ['ExecutionFailed', 'ExecutionTimeout', 'ExecutionThrottled'],
  'AWS/Events': ['FailedInvocations', 'InvocationsFailedToBeSentToDlq'],
};
/** Every metric roomcast emits: the functions' (METRIC) and the ones the state machines put themselves. */
const asl = ['fanout.asl.json', 'broadcast.asl.json']
  .map((file) => readFileSync(join(__dirname, '..', '..', 'statemachines', file), 'utf8'))
  .join('\n');
const emitted = new Set<string>([
  ...Object.values(METRIC),
  ...[...asl.matchAll(/"MetricName": "(\w+)"/g)].map((m) => m[1] as string),
]);

type MetricRow = [string, string, ...unknown[]];
/** A widget's row: a metric, or a Metrics Insights query (`[{expression: "SELECT SUM(Metric) FROM SCHEMA(...)"}]`). */
type WidgetRow = MetricRow | [{ expression: string; id?: string }];
const dashboard = JSON.parse(template.resolve(resources.Dashboard?.Properties.DashboardBody) as string) as {
  widgets: { properties: { title: string; metrics: WidgetRow[] } }[];
};
/** A query's row as the metric it reads, [namespace, metric]; a query of another form is refused. */
function asMetric(row: WidgetRow): MetricRow {
  const [first] = row;
  if (typeof first === 'string') return row as MetricRow;
  const read = /^SELECT \w+\((\w+)\) FROM SCHEMA\("([\w/]+)"/.exec(first.expression);
  if (!read) throw new Error(`not a Metrics Insights query of one metric: ${first.expression}`);
  return [read[2] as string, read[1] as string];
}
const rows = dashboard.widgets.flatMap((w) => w.properties.metrics.map(asMetric));

it('charts only metrics roomcast emits or AWS publishes', () => {
  expect(rows.length).toBeGreaterThan(20);
  for (const [namespace, name] of rows) {
    if (namespace === 'roomcast') expect(emitted).toContain(name);
    else expect(AWS_METRICS[namespace] ?? []).toContain(name);
  }
});

it('charts every metric roomcast emits', () => {
  expect(emitted).toContain('DeliveryFailures');
  const charted = new Set(rows.filter(([ns]) => ns === 'roomcast').map(([, name]) => name));
  expect([...emitted].filter((name) => !charted.has(name))).toEqual([]);
});

it.each(['cognito', 'none', 'token'])(
  'charts errors, duration, throttles and cold starts of every function in the template (AuthMode=%s)',
  (mode) => {
    const variant = loadTemplate(join(__dirname, '..', '..', 'template.yaml'), {
      parameters: { AuthMode: mode },
    });
    const body = JSON.parse(variant.resolve(resources.Dashboard?.Properties.DashboardBody) as string) as {
      widgets: { properties: { metrics: MetricRow[] } }[];
    };
    const charts = body.widgets.flatMap((w) => w.properties.metrics);
    const functionNames = variant.functions().map((f) => f.name);
    expect(functionNames.some((name) => name.endsWith('-AuthorizerFunction'))).toBe(mode !== 'none');
    for (const metric of ['Errors', 'Duration', 'Throttles']) {
      const charted = charts
        .filter(([ns, name]) => ns === 'AWS/Lambda' && name === metric)
        .map((row) => row[3]);
      expect(new Set(charted)).toEqual(new Set(functionNames));
    }
    // Powertools' ColdStart, per function by its function_name dimension (every function runs its handler).
    const coldStarts = charts
      .filter(
        ([ns, name, dimension]) => ns === 'roomcast' && name === 'ColdStart' && dimension === 'function_name',
      )
      .map((row) => row[3]);
    expect(new Set(coldStarts)).toEqual(new Set(functionNames));
  },
);

it('keeps the dashboard compact in template.yaml', () => {
  const text = readFileSync(join(__dirname, '..', '..', 'template.yaml'), 'utf8');
  const lines = text.split('\n');
  const start = lines.indexOf('  Dashboard:');
  const end = lines.findIndex(
    (line, i) => i > start && /^ {2}\S/.test(line) && !line.startsWith('  Dashboard'),
  );
  expect(start).toBeGreaterThan(0);
  expect(end - start).toBeLessThanOrEqual(250);
});

it('charts the custom metrics the issue asks for', () => {
  for (const name of [
    'MessagesSent',
    'Deliveries',
    'DeliveryLatency',
    'StaleConnectionsPruned',
    'PostsThrottled',
    'DeliveryFailures',
  ]) {
    expect(rows.some(([ns, metric]) => ns === 'roomcast' && metric === name)).toBe(true);
  }
});

it('alarms on fan-out failures, delivery failure rate, Lambda errors and integration errors', () => {
  const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  const watched = alarms.flatMap(([, r]) => {
    const p = r.Properties as {
      MetricName?: string;
      Metrics?: { MetricStat?: { Metric: { MetricName: string } }; Expression?: unknown }[];
    };
    // A Metrics Insights query names its metric in SELECT FUNCTION(MetricName).
    const queried = (p.Metrics ?? []).map(
      (m) => /^SELECT \w+\((\w+)\)/.exec(String(template.resolve(m.Expression ?? '')))?.[1],
    );
    return [
      p.MetricName,
      ...(p.Metrics ?? []).map((m) => m.MetricStat?.Metric.MetricName),
      ...queried,
    ].filter(Boolean);
  });
  expect(watched).toEqual(
    expect.arrayContaining(['ExecutionsFailed', 'DeliveryFailures', 'Errors', 'IntegrationError']),
  );
  for (const name of watched) {
    expect([...emitted, ...Object.values(AWS_METRICS).flat()]).toContain(name);
  }
});

it('watches the errors of every function in the Lambda errors alarm, in one query that can hold them all', () => {
  const alarm = resources.LambdaErrorsAlarm?.Properties as {
    Metrics: { Expression?: unknown; MetricStat?: unknown; ReturnData?: boolean }[];
  };
  // CloudWatch refuses a metric-math alarm that reads more than 10 metrics (a hard limit); a Metrics Insights
  // query has no such bound.
  expect(alarm.Metrics.filter((m) => m.MetricStat !== undefined).length).toBeLessThanOrEqual(10);
  const [query] = alarm.Metrics.filter((m) => m.ReturnData).map((m) =>
    String(template.resolve(m.Expression)),
  );
  expect(query).toMatch(/^SELECT SUM\(Errors\) FROM SCHEMA\("AWS\/Lambda", FunctionName\) WHERE /);
  const watched = [...(query ?? '').matchAll(/FunctionName = '([^']+)'/g)].map((m) => m[1]);
  expect(new Set(watched)).toEqual(new Set(template.functions().map((f) => f.name)));
});

/**
 * A count of events that were stored but will not be delivered live: each one is a member who misses a message
 * until the room's next event, so the first in 5 minutes alarms, and the metric is charted with the failures.
 */
it.each([
  ['the chat bus refused an event (a send, a presence change)', METRIC.publishFailures],
  ['a function could not read the settings document', METRIC.settingsUnreadable],
])('alarms, as the other alarms do, at the first time %s in 5 minutes', (_what, metric) => {
  const alarms = Object.values(resources).filter(
    (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === metric,
  );
  expect(alarms).toHaveLength(1);
  const alarm = alarms[0]?.Properties ?? {};
  // The same namespace and dimensions as the custom metrics' other alarm, which Powertools writes them with.
  const rate = resources.DeliveryFailureRateAlarm?.Properties.Metrics as
    | { MetricStat?: { Metric: { Namespace: unknown; Dimensions: unknown } } }[]
    | undefined;
  const custom = rate?.find((m) => m.MetricStat)?.MetricStat?.Metric;
  expect(custom).toBeDefined();
  expect(template.resolve(alarm.Namespace)).toBe('roomcast');
  expect(template.resolve(alarm.Namespace)).toEqual(template.resolve(custom?.Namespace));
  expect(template.resolve(alarm.Dimensions)).toEqual(template.resolve(custom?.Dimensions));
  expect(template.resolve(alarm.Dimensions)).toEqual([{ Name: 'service', Value: 'roomcast' }]);
  expect(alarm).toMatchObject({
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  });
  const notified = resources.FanoutFailuresAlarm?.Properties ?? {};
  expect(alarm.AlarmActions).toEqual(notified.AlarmActions);
  expect(alarm.OKActions).toEqual(notified.OKActions);
  expect(JSON.stringify(alarm.AlarmActions)).toContain('AlarmTopicArn');
  // On the dashboard's failures widget, beside the other failures an operator reads with the alarm.
  const failures = dashboard.widgets.find((w) => /failed deliveries/.test(w.properties.title));
  expect(failures?.properties.metrics.map((row) => asMetric(row)[1])).toContain(metric);
});
