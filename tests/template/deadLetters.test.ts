import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * A chat event EventBridge cannot hand to the fan-out after its retries is kept and announced, not dropped: the rule's
 * target has a dead-letter queue only that rule may write to, and an alarm fires while anything waits in it.
 */
const { Resources } = transformedTemplate();
type Props = Record<string, unknown>;
const props = (id: string) => (Resources[id]?.Properties ?? {}) as Props;
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });

const rules = Object.entries(Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');
const [ruleId, rule] = rules.find(([, r]) => JSON.stringify(r.Properties).includes('RoomWake')) ?? [];
const target = (rule?.Properties?.Targets as Props[] | undefined)?.[0] ?? {};
const queueId = ((target.DeadLetterConfig as { Arn?: { 'Fn::GetAtt'?: string[] } })?.Arn?.['Fn::GetAtt'] ??
  [])[0] as string;

it('gives the chat events rule a retry policy and a dead-letter queue that keeps events for 14 days', () => {
  expect(ruleId).toBeDefined();
  expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 300 });
  expect(Resources[queueId]?.Type).toBe('AWS::SQS::Queue');
  expect(props(queueId).MessageRetentionPeriod).toBe(1209600);
});

it("lets only EventBridge, for the fan-out's two rules, send to the queue, and nothing else", () => {
  const policies = Object.values(Resources).filter(
    (r) =>
      r.Type === 'AWS::SQS::QueuePolicy' &&
      JSON.stringify(r.Properties?.Queues) === JSON.stringify([{ Ref: queueId }]),
  );
  expect(policies).toHaveLength(1);
  const statements = (policies[0]?.Properties?.PolicyDocument as { Statement?: Props[] } | undefined)
    ?.Statement;
  expect(statements).toEqual([
    {
      Sid: expect.any(String),
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt(queueId, 'Arn'),
      Condition: {
        ArnEquals: {
          'aws:SourceArn': [
            getAtt('BroadcastStateMachineBroadcastToEveryone', 'Arn'),
            getAtt('RepostStateMachineRepostThrottled', 'Arn'),
            getAtt('DepartureStateMachineLeaveRooms', 'Arn'),
            getAtt(ruleId as string, 'Arn'),
          ],
        },
      },
    },
  ]);
});

describe("the fan-out queue: a room's events wait there until an execution delivered them", () => {
  const queue = props('FanoutQueue');
  const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };

  it('is FIFO, with the room as message group, and only RoomEventsRule may send to it', () => {
    expect(queue).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: true });
    expect(target).toMatchObject({
      Arn: getAtt('FanoutQueue', 'Arn'),
      SqsParameters: { MessageGroupId: '$.detail.roomId' },
    });
    const policy = Object.values(Resources).find(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(r.Properties?.Queues) === '[{"Ref":"FanoutQueue"}]',
    );
    expect((policy?.Properties?.PolicyDocument as { Statement?: Props[] } | undefined)?.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt('RoomEventsRule', 'Arn') } },
      }),
    ]);
  });

  it('moves a batch that failed every receive to a FIFO dead-letter queue, alarmed at the first message', () => {
    expect(redrive.deadLetterTargetArn).toEqual(getAtt('FanoutDeadLetterQueue', 'Arn'));
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(3);
    expect(props('FanoutDeadLetterQueue').FifoQueue).toBe(true);
    expect(props('FanoutDeadLetterAlarm')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('FanoutDeadLetterQueue', 'QueueName') }],
      Threshold: 1,
    });
  });

  it("gives the pipe only the queue's reads and the fan-out's synchronous start", () => {
    const pipe = props('FanoutPipe');
    expect(pipe).toMatchObject({
      Source: getAtt('FanoutQueue', 'Arn'),
      SourceParameters: { SqsQueueParameters: { BatchSize: 10 } },
      Target: { Ref: 'FanoutStateMachine' },
      TargetParameters: { StepFunctionStateMachineParameters: { InvocationType: 'REQUEST_RESPONSE' } },
    });
    const statements = (
      props('FanoutPipeRole').Policies as { PolicyDocument: { Statement: Props[] } }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((st) => [st.Action, st.Resource])).toEqual([
      [['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], getAtt('FanoutQueue', 'Arn')],
      ['states:StartSyncExecution', { Ref: 'FanoutStateMachine' }],
    ]);
  });
});

it('alarms, to the alarm topic, as soon as one event waits in the dead-letter queue', () => {
  const alarms = Object.values(Resources).filter(
    (r) =>
      r.Type === 'AWS::CloudWatch::Alarm' &&
      JSON.stringify(r.Properties?.Dimensions) ===
        JSON.stringify([{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }]),
  );
  expect(alarms).toHaveLength(1);
  const alarm = alarms[0]?.Properties as Props;
  expect(alarm).toMatchObject({
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
  });
  expect(JSON.stringify(alarm.AlarmActions)).toContain('AlarmTopicArn');
});

it('gives the local cloud the dead-letter queue of the rule target', () => {
  const local = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
  const chat = local.eventRules().find((r) => r.logicalId === ruleId);
  expect(chat?.targets[0]?.deadLetterArn).toMatch(/^arn:aws:sqs:[\w-]+:\d{12}:.+ChatEventsDeadLetterQueue$/);
});

describe("a message's push that never ran is kept and announced, not lost", () => {
  const pushTarget = ((props('PushOnMessageRule').Targets as Props[] | undefined) ?? [])[0] ?? {};
  const alarmOn = (metric: string) =>
    Object.values(Resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties).includes(metric),
    );

  it('sends the event the rule could not hand the push function, within 2 minutes, to PushDeadLetterQueue', () => {
    expect(pushTarget).toMatchObject({
      Arn: getAtt('PushFunction', 'Arn'),
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
      DeadLetterConfig: { Arn: getAtt('PushDeadLetterQueue', 'Arn') },
    });
    // EventBridge and Lambda dead-letter queues are standard queues.
    expect(props('PushDeadLetterQueue')).toEqual({
      MessageRetentionPeriod: 1209600,
      SqsManagedSseEnabled: true,
    });
  });

  it('gives up a throttled or failed invocation after 2 minutes, without a second push, into the same queue', () => {
    expect(Resources.PushFunctionEventInvokeConfig?.Properties).toMatchObject({
      FunctionName: { Ref: 'PushFunction' },
      MaximumEventAgeInSeconds: 120,
      MaximumRetryAttempts: 0,
    });
    expect(props('PushFunction').DeadLetterConfig).toEqual({
      TargetArn: getAtt('PushDeadLetterQueue', 'Arn'),
    });
    const sends = (props('PushFunctionRole').Policies as { PolicyDocument: { Statement: Props[] } }[])
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((st) => JSON.stringify(st.Action).includes('sqs:'));
    expect(sends).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('PushDeadLetterQueue', 'Arn') },
    ]);
  });

  it('lets only EventBridge, for the push rule alone, send to the queue', () => {
    const policies = Object.values(Resources).filter(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(r.Properties?.Queues) === '[{"Ref":"PushDeadLetterQueue"}]',
    );
    expect(policies).toHaveLength(1);
    expect(
      (policies[0]?.Properties?.PolicyDocument as { Statement?: Props[] } | undefined)?.Statement,
    ).toEqual([
      {
        Sid: expect.any(String),
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt('PushDeadLetterQueue', 'Arn'),
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt('PushOnMessageRule', 'Arn') } },
      },
    ]);
  });

  it("alarms, to the alarm topic, on the queue's first message and on the rule's failed invocations", () => {
    const queueAlarms = Object.values(Resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        JSON.stringify(r.Properties?.Dimensions) ===
          JSON.stringify([{ Name: 'QueueName', Value: getAtt('PushDeadLetterQueue', 'QueueName') }]),
    );
    expect(queueAlarms).toHaveLength(1);
    expect(queueAlarms[0]?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const ruleName = { 'Fn::Select': [2, { 'Fn::Split': ['/', getAtt('PushOnMessageRule', 'Arn')] }] };
    const ruleAlarms = alarmOn('FailedInvocations').filter((r) =>
      JSON.stringify(r.Properties).includes(JSON.stringify(ruleName)),
    );
    expect(ruleAlarms).toHaveLength(1);
    expect(JSON.stringify(ruleAlarms[0]?.Properties)).toContain('InvocationsFailedToBeSentToDlq');
    for (const alarm of [...queueAlarms, ...ruleAlarms])
      expect(JSON.stringify(alarm.Properties?.AlarmActions)).toContain('AlarmTopicArn');
  });
});
