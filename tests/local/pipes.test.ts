import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadTemplate } from '../../tools/infra/template';
import { type LocalCloud, startLocalCloud } from '../../tools/local/cloud';
import type { PipeSqsRecord } from '../../tools/local/pipes';
import { scratchFolder } from '../helpers/scratch';

/**
 * A rule sends to a FIFO queue, pipes poll FIFO queues into an Express state machine (StartSyncExecution), as AWS
 * runs them (docs/PARITY.md, "EventBridge to SQS" and "EventBridge Pipes"). The state machine records each batch it
 * is given in a table; a body with "slow" makes it hold until the test puts the item `release` there (it looks every
 * second of a Step Functions test clock, 50 ms), one with "fail" makes it fail. SQS durations run on a test clock of
 * 10 ms per second: Denied's 30-second visibility timeout lasts 300 ms (its batches never run), Flaky's 300 seconds
 * 3 s, so that a batch comes back only once its execution has failed (a loaded machine takes far less to run one),
 * and Work's 12 hours (the most SQS takes) 432 s, longer than any batch is held here.
 */
const MS_PER_SECOND = 10;
const ADMIN = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

const TEMPLATE = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  AuthMode: { Type: String, Default: none }
  HostWebChat: { Type: String, Default: 'false' }
  LobbyPolicy: { Type: String, Default: open }
  LobbyPostLimit: { Type: String, Default: '0' }
  ConnectionsPerSource: { Type: String, Default: '0' }
  ConnectRateLimit: { Type: String, Default: '0' }
  RoomCreateLimit: { Type: String, Default: '0' }
Resources:
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties: { Name: pipes-test, ProtocolType: WEBSOCKET, RouteSelectionExpression: $request.body.action }
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties: { ApiId: !Ref Api, StageName: test }
  Batches:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: batches
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  Bus:
    Type: AWS::Events::EventBus
    Properties: { Name: test-bus }
  ToWork:
    Type: AWS::Events::Rule
    Properties:
      EventBusName: !Ref Bus
      EventPattern: { source: [test] }
      Targets:
        - Id: Work
          Arn: !GetAtt Work.Arn
          __TARGET_EXTRA__
  WorkPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Work]
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: { Service: events.amazonaws.com }
            Action: sqs:SendMessage
            Resource: !GetAtt Work.Arn
  Work:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true, ContentBasedDeduplication: true, VisibilityTimeout: 43200 }
  Flaky:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 300
      RedrivePolicy: { deadLetterTargetArn: !GetAtt FlakyDead.Arn, maxReceiveCount: 3 }
  FlakyDead:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true }
  Denied:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 30
      RedrivePolicy: { deadLetterTargetArn: !GetAtt DeniedDead.Arn, maxReceiveCount: 2 }
  DeniedDead:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true }
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: __MACHINE_TYPE__
      Definition:
        StartAt: Record
        States:
          Record:
            Type: Task
            Resource: arn:aws:states:::dynamodb:putItem
            Parameters:
              TableName: batches
              Item:
                id: { S.$: $$.Execution.Name }
                batch: { S.$: States.JsonToString($) }
                startedAt: { S.$: $$.Execution.StartTime }
                # aws-local-stepfunctions drops every backslash of an intrinsic's string result, so JsonToString
                # of a body with quotes is not JSON locally: the first record's fields are kept by path too.
                firstBody: { S.$: '$[0].body' }
                firstRest: { S.$: 'States.JsonToString($[0].attributes)' }
            ResultPath: null
            Next: Slow?
          Slow?:
            Type: Choice
            Choices:
              - { Variable: '$[0].body', StringMatches: '*slow*', Next: Hold }
              - { Variable: '$[0].body', StringMatches: '*partial*', Next: Partial }
            Default: Fail?
          Partial:
            Type: Pass
            Parameters: { batchItemFailures: [{ itemIdentifier.$: '$[0].messageId' }] }
            End: true
          Hold:
            Type: Task
            Resource: arn:aws:states:::dynamodb:getItem
            Parameters: { TableName: batches, Key: { id: { S: release } } }
            Next: Released?
          Released?:
            Type: Choice
            Choices: [{ Variable: $.Item, IsPresent: true, Next: Done }]
            Default: HoldWait
          HoldWait: { Type: Wait, Seconds: 1, Next: Hold }
          Fail?:
            Type: Choice
            Choices: [{ Variable: '$[0].body', StringMatches: '*fail*', Next: Failed }]
            Default: Done
          Failed: { Type: Fail, Error: Test.Failed, Cause: asked to fail }
          Done: { Type: Succeed }
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:PutItem, dynamodb:GetItem]
              Resource: !GetAtt Batches.Arn
  PipeRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{ Effect: Allow, Principal: { Service: pipes.amazonaws.com }, Action: sts:AssumeRole }]
      Policies:
        - PolicyName: pipe
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [__SOURCE_ACTIONS__]
                Resource: [!GetAtt Work.Arn, !GetAtt Flaky.Arn]
              - Effect: Allow
                Action: states:StartSyncExecution
                Resource: !Ref Machine
  DeniedRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{ Effect: Allow, Principal: { Service: pipes.amazonaws.com }, Action: sts:AssumeRole }]
      Policies:
        - PolicyName: pipe-without-target
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes]
                Resource: !GetAtt Denied.Arn
  WorkPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt PipeRole.Arn
      Source: !GetAtt Work.Arn
      SourceParameters: { SqsQueueParameters: { BatchSize: 10 } }
      Target: !Ref Machine
      TargetParameters: { StepFunctionStateMachineParameters: { InvocationType: REQUEST_RESPONSE } }
  FlakyPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt PipeRole.Arn
      Source: !GetAtt Flaky.Arn
      SourceParameters: { SqsQueueParameters: { BatchSize: 10 } }
      Target: !Ref Machine
      TargetParameters: { StepFunctionStateMachineParameters: { InvocationType: REQUEST_RESPONSE } }
  DeniedPipe:
    Type: AWS::Pipes::Pipe
    Properties:
      RoleArn: !GetAtt DeniedRole.Arn
      Source: !GetAtt Denied.Arn
      Target: !Ref Machine
      TargetParameters: { StepFunctionStateMachineParameters: { InvocationType: REQUEST_RESPONSE } }
`;

const GOOD = {
  __TARGET_EXTRA__: "SqsParameters: { MessageGroupId: '$.detail.roomId' }",
  __MACHINE_TYPE__: 'EXPRESS',
  __SOURCE_ACTIONS__: 'sqs:ReceiveMessage, sqs:DeleteMessage, sqs:GetQueueAttributes',
};

const scratch = scratchFolder('roomcast-pipes-');
beforeAll(() => symlinkSync(join(__dirname, '..', '..', 'dist'), join(scratch.path, 'dist')));

function templateFile(changes: Partial<typeof GOOD> = {}): string {
  let text = TEMPLATE;
  for (const [key, value] of Object.entries({ ...GOOD, ...changes })) text = text.replaceAll(key, value);
  return scratch.write(text);
}

function start(changes: Partial<typeof GOOD> = {}, logs: string[] = []): Promise<LocalCloud> {
  return startLocalCloud({
    templatePath: templateFile(changes),
    httpPort: 0,
    wsPort: 0,
    log: (line) => logs.push(line),
    sqsTestClock: { msPerSecond: MS_PER_SECOND },
    stepFunctionsTestClock: { msPerSecond: 50, states: ['HoldWait'] },
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 90_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('a running cloud with pipes', () => {
  let cloud: LocalCloud;
  let sqs: SQSClient;
  let dynamo: DynamoDBClient;
  let events: EventBridgeClient;
  const logs: string[] = [];
  const arnOf = (logicalId: string) =>
    cloud.template.queues().find((q) => q.logicalId === logicalId)?.arn as string;
  const urlOf = (logicalId: string) =>
    `${cloud.sqsEndpoint}/000000000000/${cloud.template.queues().find((q) => q.logicalId === logicalId)?.name}`;

  beforeAll(async () => {
    cloud = await start({}, logs);
    sqs = new SQSClient({ endpoint: cloud.sqsEndpoint, region, credentials: ADMIN });
    dynamo = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region, credentials: ADMIN });
    events = new EventBridgeClient({ endpoint: cloud.eventsEndpoint, region, credentials: ADMIN });
  }, 240_000);
  afterAll(async () => {
    sqs.destroy();
    dynamo.destroy();
    events.destroy();
    await cloud.close();
  });

  /** The batches the state machine recorded, each with its execution's start time. */
  async function batches(): Promise<{ records: PipeSqsRecord[]; startedAt: number }[]> {
    const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: 'batches' }));
    return Items.filter((item) => item.batch)
      .map((item) => ({
        records: recordsOf(item.batch?.S ?? '[]', item.firstBody?.S ?? '', item.firstRest?.S ?? '{}'),
        startedAt: Date.parse(item.startedAt?.S ?? ''),
      }))
      .sort((a, b) => a.startedAt - b.startedAt);
  }
  const bodies = async () => (await batches()).map((b) => b.records.map((r) => r.body));
  const send = (queue: string, body: string, group: string) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: urlOf(queue),
        MessageBody: body,
        MessageGroupId: group,
        MessageDeduplicationId: body,
      }),
    );

  it("passes a rule's events to the state machine as SQS records in the Pipes event shape", async () => {
    const out = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'test-bus',
            Source: 'test',
            DetailType: 'Said',
            Detail: '{"text":"hello","roomId":"R1"}',
          },
        ],
      }),
    );
    const eventId = out.Entries?.[0]?.EventId;
    const batch = await until('the batch', async () =>
      (await batches()).find((b) => b.records.some((r) => r.body.includes('hello'))),
    );
    const [record] = batch.records;
    // A JSON array even for one record; the body is the whole event as text.
    expect(batch.records).toHaveLength(1);
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({
      id: eventId,
      'detail-type': 'Said',
      detail: { text: 'hello' },
    });
    expect(record).toMatchObject({
      messageId: expect.any(String),
      receiptHandle: expect.any(String),
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: arnOf('Work'),
      awsRegion: region,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d+$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d+$/),
        SequenceNumber: expect.stringMatching(/^\d+$/),
        // The rule's SqsParameters.MessageGroupId is a dynamic path: the event's detail.roomId. EventBridge sends no
        // deduplication id, so the queue's content-based one (the body's SHA-256) applies.
        MessageGroupId: 'R1',
        MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });
    // A succeeded execution deletes its batch.
    await until('the batch deleted', () => (cloud.sqs.peek(arnOf('Work')).length === 0 ? true : undefined));
  });

  it('runs one batch per group at a time, in order, while other groups go on', async () => {
    await send('Work', 'slow a1', 'A');
    await until('a1 in flight', () => (cloud.sqs.counts(arnOf('Work')).inFlight === 1 ? true : undefined));
    await send('Work', 'a2', 'A');
    await send('Work', 'b1', 'B');
    // b1 is processed while a1's execution holds (until the release below); a2 waits for a1's batch to be deleted.
    await until('b1', async () => ((await bodies()).some((b) => b.includes('b1')) ? true : undefined));
    expect((await bodies()).flat()).not.toContain('a2');
    const releasedAt = Date.now();
    await dynamo.send(new PutItemCommand({ TableName: 'batches', Item: { id: { S: 'release' } } }));
    await until('a2', async () => ((await bodies()).some((b) => b.includes('a2')) ? true : undefined));
    // a2's execution started only once a1's had seen the release and ended.
    const a2 = (await batches()).find((b) => b.records.some((r) => r.body === 'a2'));
    expect(a2?.startedAt).toBeGreaterThanOrEqual(releasedAt);
  });

  it('leaves a failed batch in the queue: it comes back after the visibility timeout, then goes to the DLQ', async () => {
    const sent = await send('Flaky', 'please fail', 'F');
    const dead = await until('the dead letter', () => cloud.sqs.peek(arnOf('FlakyDead'))[0], 60_000);
    expect(dead).toMatchObject({
      messageId: sent.MessageId,
      body: 'please fail',
      groupId: 'F',
      receiveCount: 3,
    });
    const tries = (await batches()).flatMap((b) => b.records).filter((r) => r.body === 'please fail');
    expect(tries.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
    expect(cloud.sqs.peek(arnOf('Flaky'))).toEqual([]);
  });

  it('deletes a succeeded batch but the records its output lists in batchItemFailures', async () => {
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: urlOf('Flaky'),
        Entries: ['partial p1', 'p2'].map((body, i) => ({
          Id: String(i),
          MessageBody: body,
          MessageGroupId: 'Q',
          MessageDeduplicationId: body,
        })),
      }),
    );
    const [p1, p2] = out.Successful ?? [];
    const dead = await until(
      'p1 dead-lettered',
      () => cloud.sqs.peek(arnOf('FlakyDead')).find((m) => m.messageId === p1?.MessageId),
      60_000,
    );
    expect(dead.receiveCount).toBe(3);
    const all = await batches();
    // The first batch held both; p2 was deleted with it, p1 came back alone until its third receive.
    expect(all.map((b) => b.records.map((r) => r.body)).filter((b) => b.includes('partial p1'))).toEqual([
      ['partial p1', 'p2'],
      ['partial p1'],
      ['partial p1'],
    ]);
    expect(cloud.sqs.peek(arnOf('FlakyDead')).some((m) => m.messageId === p2?.MessageId)).toBe(false);
    expect(cloud.sqs.peek(arnOf('Flaky'))).toEqual([]);
  });

  it('a stopped pipe receives nothing: its messages wait in the queue and run in one batch once it is started', async () => {
    const name = cloud.template.pipes().find((p) => p.logicalId === 'WorkPipe')?.name as string;
    cloud.pipes.stopPipe(name);
    for (const body of ['held 1', 'held 2', 'held 3']) await send('Work', body, 'H');
    // Nothing can start them while the pipe is stopped: the local cloud is idle with the three still queued.
    await cloud.idle();
    expect(cloud.sqs.counts(arnOf('Work'))).toMatchObject({ visible: 3, inFlight: 0 });
    expect((await bodies()).flat().filter((b) => b.startsWith('held'))).toEqual([]);
    cloud.pipes.startPipe(name);
    await until('the held batch', async () =>
      (await bodies()).some((b) => b.includes('held 3')) ? true : undefined,
    );
    expect((await bodies()).filter((b) => b.some((body) => body.startsWith('held')))).toEqual([
      ['held 1', 'held 2', 'held 3'],
    ]);
    expect(() => cloud.pipes.stopPipe('no-such-pipe')).toThrow(/NotFoundException/);
  });

  it("never starts the target when the pipe's role may not: the messages end in the DLQ untouched", async () => {
    const sent = await send('Denied', 'for nobody', 'D');
    const dead = await until('the dead letter', () => cloud.sqs.peek(arnOf('DeniedDead'))[0]);
    expect(dead).toMatchObject({ messageId: sent.MessageId, receiveCount: 2 });
    expect((await bodies()).flat()).not.toContain('for nobody');
    expect(logs.join('\n')).toMatch(/states:StartSyncExecution refused: User: .* is not authorized/);
  });
});

describe('what AWS refuses', () => {
  it("fails the pipe's creation when its role may not read the source queue", async () => {
    await expect(start({ __SOURCE_ACTIONS__: 'sqs:DeleteMessage, sqs:GetQueueAttributes' })).rejects.toThrow(
      /Pipe WorkPipe: CREATE_FAILED: the role PipeRole may not sqs:ReceiveMessage on the source/,
    );
  });

  it('refuses a FIFO queue target without SqsParameters, as PutTargets does', async () => {
    await expect(start({ __TARGET_EXTRA__: '' })).rejects.toThrow(
      'Rule ToWork: ValidationException: Parameter(s) SqsParameters must be specified for target: Work.',
    );
  });

  it('refuses REQUEST_RESPONSE to a STANDARD state machine', () => {
    expect(() => loadTemplate(templateFile({ __MACHINE_TYPE__: 'STANDARD' })).pipes()).toThrow(
      /REQUEST_RESPONSE is not supported for a STANDARD state machine/,
    );
  });
});
/** A recorded batch; one whose JSON the local JsonToString broke (a body with quotes) is its first record. */
function recordsOf(batch: string, firstBody: string, firstAttributes: string): PipeSqsRecord[] {
  try {
    return JSON.parse(batch) as PipeSqsRecord[];
  } catch {
    const broken = batch.replace(firstBody, '');
    const [first] = JSON.parse(broken) as PipeSqsRecord[];
    return [{ ...(first as PipeSqsRecord), body: firstBody, attributes: JSON.parse(firstAttributes) }];
  }
}
