import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import {
  ALARM_TOPIC,
  expectNotifiesTopic,
  type MetricQuery,
  metricsOf,
  type Props,
  props,
  resources as Resources,
} from '../helpers/templateAlarms';

/**
 * The fan-out is watched from the bus to the members: a room whose events wait in the queue, a pipe that cannot run a
 * batch, a rule that cannot hand an event on, and DynamoDB throttling each fire an alarm that notifies the alarms
 * topic, watches the stack's own resource (by Ref or GetAtt, never a typed name), is charted on the dashboard and has
 * a runbook in docs/OPERATIONS.md.
 */
const root = join(__dirname, '..', '..');
const local = loadTemplate(join(root, 'template.yaml'));
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

const inputs = (id: string) => metricsOf(id).filter((m) => m.MetricStat);

/** The alarms this file is about, each with the resource it must watch. */
const ALARMS = [
  'FanoutQueueAgeAlarm',
  'FanoutPipeFailuresAlarm',
  'RoomEventsRuleFailuresAlarm',
  'BroadcastRuleFailuresAlarm',
  'RepostRuleFailuresAlarm',
  'DepartureRuleFailuresAlarm',
  'TableThrottlesAlarm',
];

it.each(ALARMS)('%s notifies the alarms topic of alarm and recovery, as the other alarms do', (id) => {
  const alarm = expectNotifiesTopic(id);
  expect(props('FanoutFailuresAlarm').AlarmActions).toEqual(ALARM_TOPIC);
  expect(alarm.AlarmDescription).toMatch(/docs\/OPERATIONS\.md/);
});

describe('a room whose events wait in the fan-out queue', () => {
  const alarm = props('FanoutQueueAgeAlarm');
  const queue = props('FanoutQueue');
  const timeoutSeconds = (
    JSON.parse(readFileSync(join(root, 'statemachines', 'fanout.asl.json'), 'utf8')) as {
      TimeoutSeconds: number;
    }
  ).TimeoutSeconds;

  it("watches the age of FanoutQueue's oldest event, the queue the room events rule fills and the pipe reads", () => {
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('FanoutQueue', 'QueueName') }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(props('FanoutPipe').Source).toEqual(getAtt('FanoutQueue', 'Arn'));
  });

  it('fires at one visibility timeout: no healthy event waits that long, a failed receive always does', () => {
    // An execution ends within TimeoutSeconds, under the visibility timeout, so a batch deleted in its first receive
    // never reaches the threshold; one received again has waited a whole visibility timeout.
    expect(timeoutSeconds).toBeLessThan(queue.VisibilityTimeout as number);
    expect(alarm.Threshold).toBe(queue.VisibilityTimeout);
    expect(alarm.Period).toBeLessThanOrEqual(queue.VisibilityTimeout as number);
  });
});

describe('the fan-out pipe', () => {
  it('alarms at the first failed or timed-out execution of FanoutPipe, the pipe from the queue to the fan-out', () => {
    expect(props('FanoutPipe').Target).toEqual(ref('FanoutStateMachine'));
    const read = inputs('FanoutPipeFailuresAlarm').map((m) => m.MetricStat?.Metric);
    expect(read.map((m) => m?.MetricName).sort()).toEqual(['ExecutionFailed', 'ExecutionTimeout']);
    for (const metric of read) {
      expect(metric).toEqual({
        Namespace: 'AWS/EventBridge/Pipes',
        MetricName: expect.any(String),
        Dimensions: [{ Name: 'PipeName', Value: ref('FanoutPipe') }],
      });
    }
    const [returned] = metricsOf('FanoutPipeFailuresAlarm').filter((m) => m.ReturnData);
    expect(returned?.Expression).toBe('FILL(failed, 0) + FILL(timedOut, 0)');
    expect(props('FanoutPipeFailuresAlarm')).toMatchObject({ Threshold: 1, EvaluationPeriods: 1 });
  });
});

/** Fn::Select and Fn::Split over a resolved string, as CloudFormation evaluates them. */
function evaluate(value: unknown, arns: Record<string, string>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Record<string, unknown>;
  if ('Fn::GetAtt' in v) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    expect(attribute).toBe('Arn');
    return arns[id];
  }
  if ('Fn::Split' in v) {
    const [on, what] = v['Fn::Split'] as [string, unknown];
    return String(evaluate(what, arns)).split(on);
  }
  if ('Fn::Select' in v) {
    const [index, list] = v['Fn::Select'] as [number | string, unknown];
    return (evaluate(list, arns) as string[])[Number(index)];
  }
  throw new Error(`not evaluated here: ${JSON.stringify(value)}`);
}

describe.each([
  ['RoomEventsRuleFailuresAlarm', 'RoomEventsRule', getAtt('FanoutQueue', 'Arn')],
  ['BroadcastRuleFailuresAlarm', 'BroadcastStateMachineBroadcastToEveryone', ref('BroadcastStateMachine')],
  ['RepostRuleFailuresAlarm', 'RepostStateMachineRepostThrottled', ref('RepostStateMachine')],
  ['DepartureRuleFailuresAlarm', 'DepartureStateMachineLeaveRooms', ref('DepartureStateMachine')],
])('%s', (alarmId, ruleId, target) => {
  const rule = props(ruleId);

  it(`watches ${ruleId}, the chat bus rule whose target is ${JSON.stringify(target)}`, () => {
    expect(Resources[ruleId]?.Type).toBe('AWS::Events::Rule');
    expect((rule.Targets as Props[]).map((t) => t.Arn)).toEqual([target]);
    // A rule on a custom bus: its metrics carry EventBusName and RuleName, and its ARN is rule/<bus>/<rule>.
    expect(rule.EventBusName).toEqual(ref('ChatBus'));
    for (const input of inputs(alarmId)) {
      const metric = input.MetricStat?.Metric;
      expect(metric?.Namespace).toBe('AWS/Events');
      expect(metric?.Dimensions.map((d) => d.Name)).toEqual(['EventBusName', 'RuleName']);
      expect(metric?.Dimensions[0]?.Value).toEqual(ref('ChatBus'));
      expect(JSON.stringify(metric?.Dimensions[1]?.Value)).toContain(JSON.stringify(getAtt(ruleId, 'Arn')));
      const arn = `arn:aws:events:eu-west-1:123456789012:rule/roomcast-chat/${ruleId}-1AB2CD3EF`;
      expect(evaluate(metric?.Dimensions[1]?.Value, { [ruleId]: arn })).toBe(`${ruleId}-1AB2CD3EF`);
    }
  });

  it('fires at the first event the rule gave up on, or could not keep in its dead-letter queue', () => {
    expect(inputs(alarmId).map((m) => m.MetricStat?.Metric.MetricName)).toEqual([
      'FailedInvocations',
      'InvocationsFailedToBeSentToDlq',
    ]);
    expect(inputs(alarmId).every((m) => m.MetricStat?.Stat === 'Sum' && m.ReturnData === false)).toBe(true);
    const returned = metricsOf(alarmId).filter((m) => m.ReturnData);
    expect(returned.map((m) => m.Expression)).toEqual(['MAX([FILL(failed, 0), FILL(notKept, 0)])']);
    expect(props(alarmId)).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('DynamoDB throttling', () => {
  const raw = local.raw.Resources as Record<string, { Properties: Props }>;
  const [throttled] = (raw.TableThrottlesAlarm?.Properties.Metrics ?? []) as MetricQuery[];
  const query = String(local.resolve(throttled?.Expression));
  const tablesIn = (text: string) => new Set([...text.matchAll(/TableName = '([^']+)'/g)].map((m) => m[1]));
  const everyTable = new Set(local.tables().map((t) => t.TableName));

  it("reads ThrottledRequests of every table of the stack, in one query (a request's index throttling counts)", () => {
    expect(everyTable.size).toBeGreaterThanOrEqual(9);
    expect(query).toMatch(
      /^SELECT SUM\(ThrottledRequests\) FROM SCHEMA\("AWS\/DynamoDB", Operation, TableName\) WHERE /,
    );
    expect(tablesIn(query)).toEqual(everyTable);
    expect(metricsOf('TableThrottlesAlarm')).toHaveLength(1);
  });

  it('fires on throttling in 3 minutes of 5, not on a burst the retries ride out', () => {
    expect(props('TableThrottlesAlarm')).toMatchObject({
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(metricsOf('TableThrottlesAlarm')[0]?.Period).toBe(60);
  });

  it("charts each table's throttled requests on the dashboard, the alarm's tables", () => {
    const body = JSON.parse(local.resolve(raw.Dashboard?.Properties.DashboardBody) as string) as {
      widgets: { properties: { title: string; metrics: unknown[][] } }[];
    };
    const widget = body.widgets.find((w) => w.properties.title.includes('TableThrottlesAlarm'));
    const [row] = widget?.properties.metrics ?? [];
    const chart = String((row?.[0] as { expression?: string } | undefined)?.expression);
    expect(chart).toMatch(/^SELECT SUM\(ThrottledRequests\) .* GROUP BY TableName$/);
    expect(tablesIn(chart)).toEqual(everyTable);
  });
});

describe('the dashboard', () => {
  const raw = local.raw.Resources as Record<string, { Properties: Props }>;
  const body = JSON.parse(local.resolve(raw.Dashboard?.Properties.DashboardBody) as string) as {
    widgets: { properties: { title: string; metrics: unknown[][] } }[];
  };
  const queueName = local.queues().find((q) => q.logicalId === 'FanoutQueue')?.name;
  const pipeName = local.pipes().find((p) => p.logicalId === 'FanoutPipe')?.name;
  const busName = local.eventBuses().find((b) => b.logicalId === 'ChatBus')?.name;
  const widget = (alarm: string) => body.widgets.find((w) => w.properties.title.includes(alarm));

  it("charts the queue's oldest event and the pipe's failures of this stack", () => {
    expect(queueName).toMatch(/FanoutQueue\.fifo$/);
    expect(widget('FanoutQueueAgeAlarm')?.properties.metrics[0]).toEqual([
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      'QueueName',
      queueName,
      expect.objectContaining({ stat: 'Maximum' }),
    ]);
    const pipe = widget('FanoutPipeFailuresAlarm')?.properties.metrics ?? [];
    expect(pipe.map((row) => row.slice(0, 4))).toEqual(
      ['ExecutionFailed', 'ExecutionTimeout', 'ExecutionThrottled'].map((name) => [
        'AWS/EventBridge/Pipes',
        name,
        'PipeName',
        pipeName,
      ]),
    );
  });

  it('charts the failed invocations of every rule on the chat bus, one line per rule', () => {
    const [row] = widget('RoomEventsRuleFailuresAlarm')?.properties.metrics ?? [];
    const [query] = (row ?? []) as { expression?: string }[];
    expect(query?.expression).toBe(
      `SELECT SUM(FailedInvocations) FROM SCHEMA("AWS/Events", EventBusName, RuleName) WHERE EventBusName = '${busName}' GROUP BY RuleName`,
    );
    expect(widget('RoomEventsRuleFailuresAlarm')?.properties.title).toContain('BroadcastRuleFailuresAlarm');
  });
});

/**
 * A rule that cannot hand an event to its target is silent unless its own alarm says so: every EventBridge rule of the
 * stack with a target (the template's own and those SAM makes from a machine's or function's events) retries, keeps
 * what it gave up on in a dead-letter queue, and has one alarm on its FailedInvocations and
 * InvocationsFailedToBeSentToDlq that notifies the alarms topic and is named on the dashboard's rules widget. The
 * rules are read from the template, so a rule added without its alarm fails here.
 */
describe('every EventBridge rule with a target', () => {
  const raw = local.raw.Resources as Record<string, { Properties: Props }>;
  const body = JSON.parse(local.resolve(raw.Dashboard?.Properties.DashboardBody) as string) as {
    widgets: { properties: { title: string } }[];
  };
  const rulesTitle = body.widgets.find((w) => w.properties.title.startsWith('Chat bus rules'))?.properties
    .title;
  const rules = Object.entries(Resources)
    .filter(
      ([, r]) => r.Type === 'AWS::Events::Rule' && ((r.Properties?.Targets as Props[]) ?? []).length > 0,
    )
    .map(([id]) => id);
  /** The alarms reading `metric` of the rule `ruleId`, by its bus and its name (the third /-part of its ARN). */
  const alarmsOn = (ruleId: string, metric: string) => {
    const dimensions = [
      { Name: 'EventBusName', Value: props(ruleId).EventBusName },
      { Name: 'RuleName', Value: { 'Fn::Select': [2, { 'Fn::Split': ['/', getAtt(ruleId, 'Arn')] }] } },
    ];
    return Object.entries(Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .filter(([id]) =>
        inputs(id).some(
          (m) =>
            m.MetricStat?.Metric.Namespace === 'AWS/Events' &&
            m.MetricStat.Metric.MetricName === metric &&
            JSON.stringify(m.MetricStat.Metric.Dimensions) === JSON.stringify(dimensions),
        ),
      )
      .map(([id]) => id);
  };

  it.each(rules)('%s retries and keeps what it gave up on in a dead-letter queue', (ruleId) => {
    for (const target of props(ruleId).Targets as Props[]) {
      expect((target.RetryPolicy as { MaximumRetryAttempts?: number }).MaximumRetryAttempts).toBeGreaterThan(
        0,
      );
      const queue = (target.DeadLetterConfig as { Arn?: { 'Fn::GetAtt'?: string[] } })?.Arn?.[
        'Fn::GetAtt'
      ]?.[0];
      expect(Resources[queue ?? '']?.Type).toBe('AWS::SQS::Queue');
    }
  });

  it.each(rules)('%s has one alarm, to the alarms topic, on its failed and lost invocations', (ruleId) => {
    const failed = alarmsOn(ruleId, 'FailedInvocations');
    expect(failed).toHaveLength(1);
    expect(alarmsOn(ruleId, 'InvocationsFailedToBeSentToDlq')).toEqual(failed);
    const [alarmId] = failed as [string];
    expectNotifiesTopic(alarmId);
    expect(rulesTitle).toContain(alarmId);
  });
});

it("gives every alarm of the template a row in docs/OPERATIONS.md's alarms table", () => {
  const operations = readFileSync(join(root, 'docs', 'OPERATIONS.md'), 'utf8');
  const section = operations.slice(operations.indexOf('## Alarms'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| alarm |')));
  const documented = new Set([...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]));
  const alarms = Object.entries(Resources)
    .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
    .map(([id]) => id);
  expect(alarms).toEqual(expect.arrayContaining(ALARMS));
  expect(new Set(alarms)).toEqual(documented);
});
