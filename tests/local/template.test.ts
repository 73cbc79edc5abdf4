// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} syntax, not JS templates.
import { join } from 'node:path';
import { type LoadTemplateOptions, type LocalTemplate, loadTemplate } from '../../tools/infra/template';
import { scratchFolder } from '../helpers/scratch';
import { conditionHolds, TEMPLATE_FUNCTIONS, templateOutputs } from '../helpers/templateOutputs';

const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');

interface TaskState {
  Resource?: string;
  Parameters?: Record<string, unknown>;
}

/** Every Task state of a definition, however deeply nested in Map (ItemProcessor/Iterator) or Parallel states. */
function taskStates(machine: unknown): TaskState[] {
  const { States = {} } = (machine ?? {}) as { States?: Record<string, Record<string, unknown>> };
  return Object.values(States).flatMap((state) => [
    ...(state.Type === 'Task' ? [state as TaskState] : []),
    ...taskStates(state.ItemProcessor ?? state.Iterator),
    ...((state.Branches as unknown[] | undefined) ?? []).flatMap(taskStates),
  ]);
}

describe('the real template.yaml', () => {
  const t = loadTemplate(TEMPLATE);

  it('gives every function its Globals environment with local names', () => {
    const fns = t.functions();
    expect(fns.map((f) => f.logicalId).sort()).toEqual([...TEMPLATE_FUNCTIONS].sort());
    for (const fn of fns) {
      expect(fn.environment).toMatchObject({
        CONNECTIONS_TABLE: 'roomcast-local-ConnectionsTable',
        ROOMS_TABLE: 'roomcast-local-RoomsTable',
        MESSAGES_TABLE: 'roomcast-local-MessagesTable',
        SENDS_TABLE: 'roomcast-local-SendsTable',
        SUBSCRIPTIONS_TABLE: 'roomcast-local-SubscriptionsTable',
        ROOM_SUBSCRIBERS_INDEX: 'RoomSubscribers',
        EVENT_BUS_NAME: 'roomcast-local-chat',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        MESSAGE_RETENTION_DAYS: '7',
        CALLBACK_URL: 'https://localwebsocketapi.execute-api.us-east-1.amazonaws.com/prod',
      });
      expect(fn.handler).toBe('index.handler');
      expect(fn.arn).toBe(`arn:aws:lambda:us-east-1:000000000000:function:${fn.name}`);
    }
  });

  it('merges function properties over Globals', () => {
    const deliver = t.functions().find((f) => f.logicalId === 'DeliverFunction');
    expect(deliver).toMatchObject({ timeoutSeconds: 30, memoryMb: 512, runtime: 'nodejs24.x' });
    expect(deliver?.entryPoint).toBe(join(__dirname, '..', '..', 'functions', 'deliver', 'index.ts'));
    const connect = t.functions().find((f) => f.logicalId === 'ConnectionFunction');
    expect(connect).toMatchObject({ timeoutSeconds: 10, memoryMb: 256 });
  });

  it('builds CreateTable inputs with the RoomSubscribers GSI', () => {
    const tables = t.tables();
    expect(tables.map((x) => x.TableName).sort()).toEqual([
      'roomcast-local-ConnectionsTable',
      'roomcast-local-DirectoryTable',
      'roomcast-local-LimitsTable',
      'roomcast-local-MembershipsTable',
      'roomcast-local-MessagesTable',
      'roomcast-local-PushSubscriptionsTable',
      'roomcast-local-ReactionsTable',
      'roomcast-local-RoomsTable',
      'roomcast-local-SendsTable',
      'roomcast-local-SessionsTable',
      'roomcast-local-SubscriptionsTable',
      'roomcast-local-WordsTable',
    ]);
    const connections = tables.find((x) => x.logicalId === 'ConnectionsTable');
    expect(connections?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(connections?.ttlAttribute).toBe('ttl');
    const subscriptions = tables.find((x) => x.logicalId === 'SubscriptionsTable');
    expect(subscriptions?.KeySchema).toEqual([
      { AttributeName: 'connectionId', KeyType: 'HASH' },
      { AttributeName: 'roomId', KeyType: 'RANGE' },
    ]);
    expect(subscriptions?.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'RoomSubscribers',
      KeySchema: [{ AttributeName: 'roomKey', KeyType: 'HASH' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['username'] },
    });
    expect(subscriptions?.ttlAttribute).toBe('ttl');
    expect(tables.find((x) => x.logicalId === 'MessagesTable')?.KeySchema).toEqual([
      { AttributeName: 'roomId', KeyType: 'HASH' },
      { AttributeName: 'seq', KeyType: 'RANGE' },
    ]);
  });

  it('resolves the state machine definition with every substitution', () => {
    const [sm] = t.stateMachines();
    expect(sm).toMatchObject({
      logicalId: 'FanoutStateMachine',
      type: 'EXPRESS',
      arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:roomcast-local-FanoutStateMachine',
    });
    const text = JSON.stringify(sm?.definition);
    expect(text).not.toContain('${');
    expect(text).toContain('arn:aws:lambda:us-east-1:000000000000:function:roomcast-local-DeliverFunction');
    expect(text).toContain("States.StringToJson('100')");
    const states = (sm?.definition.States ?? {}) as Record<string, unknown>;
    expect(Object.keys(states)).toEqual(['Prepare', 'Rooms', 'AnyHandedBack', 'Settle', 'Delivered']);
    // The substitutions point the machine at this template's resources: its Lambda tasks invoke the Deliver
    // function, its DynamoDB tasks read and prune the Subscriptions table through its room index (the broadcast
    // to everyone, which Scans the Connections table, has its own machine) and save rooms' cursors in the Limits table.
    const deliver = t.functions().find((f) => f.logicalId === 'DeliverFunction');
    const ownTable = (name: unknown) =>
      t
        .tables()
        .find(
          (x) =>
            x.TableName === name &&
            ['SubscriptionsTable', 'ConnectionsTable', 'LimitsTable'].includes(x.logicalId),
        );
    const tasks = taskStates(sm?.definition);
    const lambdaTasks = tasks.filter((task) => String(task.Resource).startsWith('arn:aws:lambda:'));
    expect(lambdaTasks.length).toBeGreaterThan(0);
    for (const task of lambdaTasks) expect(task.Resource).toBe(deliver?.arn);
    const tableTasks = tasks.filter((task) => String(task.Resource).includes(':dynamodb:'));
    expect(tableTasks.length).toBeGreaterThan(0);
    for (const task of tableTasks) {
      const table = ownTable(task.Parameters?.TableName);
      expect(table).toBeDefined();
      if (task.Parameters?.IndexName !== undefined) {
        expect(table?.logicalId).toBe('SubscriptionsTable');
        expect(table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toContain(task.Parameters.IndexName);
      }
    }
    expect(
      [...new Set(tableTasks.map((task) => ownTable(task.Parameters?.TableName)?.logicalId))].sort(),
    ).toEqual(['LimitsTable', 'SubscriptionsTable']);
  });

  it('reads the SAM EventBridgeRule of the state machine', () => {
    expect(t.eventBuses()).toEqual([
      {
        logicalId: 'ChatBus',
        name: 'roomcast-local-chat',
        arn: 'arn:aws:events:us-east-1:000000000000:event-bus/roomcast-local-chat',
      },
    ]);
    const rules = t.eventRules();
    expect(rules.map((r) => r.logicalId).sort()).toEqual([
      'BroadcastStateMachineBroadcastToEveryone',
      'DepartureStateMachineLeaveRooms',
      'PushOnMessageRule',
      'RepostStateMachineRepostThrottled',
      'RoomEventsRule',
    ]);
    // A chunk's throttled members go to the repost machine, which takes the event's detail (post.ts repostByBus).
    const reposts = rules.find((r) => r.logicalId === 'RepostStateMachineRepostThrottled');
    expect(reposts?.targets).toMatchObject([
      { kind: 'stateMachine', logicalId: 'RepostStateMachine', inputPath: '$.detail' },
    ]);
    // A room's events go to the fan-out queue, one message group per room (the pipe starts the machine from it).
    const roomEvents = rules.find((r) => r.logicalId === 'RoomEventsRule');
    expect(roomEvents?.busName).toBe('roomcast-local-chat');
    expect(roomEvents?.pattern.source).toEqual(['roomcast.chat']);
    expect(roomEvents?.targets).toMatchObject([
      {
        kind: 'queue',
        arn: expect.stringMatching(/:FanoutQueue\.fifo$|FanoutQueue.*\.fifo$/),
        messageGroupId: '$.detail.roomId',
      },
    ]);
    // A broadcast to every connection starts an execution of its own: it waits behind no room.
    // A broadcast to everyone goes to its own machine (statemachines/broadcast.asl.json).
    const everyone = rules.find((r) => r.logicalId === 'BroadcastStateMachineBroadcastToEveryone');
    expect(everyone?.targets).toEqual([
      {
        kind: 'stateMachine',
        logicalId: 'BroadcastStateMachine',
        arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:roomcast-local-BroadcastStateMachine',
        deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:roomcast-local-ChatEventsDeadLetterQueue',
        retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeSeconds: 300 },
      },
    ]);
  });

  it('resolves Outputs', () => {
    expect(templateOutputs(t)).toMatchObject({
      WebSocketUrl: 'wss://localwebsocketapi.execute-api.us-east-1.amazonaws.com/prod',
      ChatBusName: 'roomcast-local-chat',
      ConnectionsTableName: 'roomcast-local-ConnectionsTable',
    });
  });

  it('applies stack name, region, account, parameter overrides and deploy-time constants', () => {
    const o = loadTemplate(TEMPLATE, {
      stackName: 'dev',
      region: 'eu-west-1',
      accountId: '123456789012',
      parameters: { StageName: 'beta', LogLevel: 'DEBUG' },
      constants: { FanoutChunkSize: '25' },
    });
    const fn = o.functions()[0];
    expect(fn?.environment.CONNECTIONS_TABLE).toBe('dev-ConnectionsTable');
    expect(fn?.environment.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
    expect(fn?.environment.CALLBACK_URL).toBe(
      'https://localwebsocketapi.execute-api.eu-west-1.amazonaws.com/beta',
    );
    expect(fn?.arn).toBe('arn:aws:lambda:eu-west-1:123456789012:function:dev-ConnectionFunction');
    expect(o.webSocketApis()[0]?.stageName).toBe('beta');
    expect(JSON.stringify(o.stateMachines()[0]?.definition)).toContain("States.StringToJson('25')");
  });

  it.each([
    // A setting is no template parameter: runtime ones are the settings document's, constants are Mappings'.
    [{ FanoutChunkSize: '25' }, /FanoutChunkSize is not declared/],
    [{ SendRateLimit: '5' }, /SendRateLimit is not declared/],
    [{ LogLevel: 'TRACE' }, /LogLevel.*AllowedValues/],
    [{ LogRetentionDays: '2' }, /LogRetentionDays.*AllowedValues/],
    [{ StageName: 'no spaces' }, /StageName.*AllowedPattern/],
    [{ Nope: '1' }, /Nope is not declared/],
  ])('rejects the override %j', (parameters, message) => {
    expect(() => loadTemplate(TEMPLATE, { parameters })).toThrow(message);
  });

  it('rejects a deploy-time constant the template does not declare, naming the known ones', () => {
    expect(() => loadTemplate(TEMPLATE, { constants: { SendRateLimit: '5' } })).toThrow(
      /SendRateLimit is not a deploy-time constant of Mappings.Deploy.Settings \(known: FanoutChunkSize/,
    );
  });
});

describe('inline templates', () => {
  const scratch = scratchFolder('roomcast-template-');
  const load = (yaml: string, opts?: LoadTemplateOptions): LocalTemplate =>
    loadTemplate(scratch.write(yaml), opts);

  const base = `
Parameters:
  Env:
    Type: String
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: a,b,c
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition IsProd]
  Loose: !Equals [1, '1']
  DevAndLoose: !And [!Condition NotProd, !Condition Loose]
  DevAndProd: !And [!Condition NotProd, !Equals [!Ref Env, prod]]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub '\${AWS::StackName}-items-\${Env}'
      BillingMode: PROVISIONED
      ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 }
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
  ProdOnly:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    Properties:
      AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
      KeySchema: [{ AttributeName: id, KeyType: HASH }]
`;

  it('resolves Sub, If, Equals, Not, And and NoValue', () => {
    const t = load(base);
    expect(t.resolve({ 'Fn::Sub': 'x-${Env}-${AWS::Region}-${!Literal}' })).toBe(
      'x-dev-us-east-1-${Literal}',
    );
    expect(t.resolve({ 'Fn::Sub': ['${A}/${Table.Arn}', { A: { Ref: 'Env' } }] })).toBe(
      'dev/arn:aws:dynamodb:us-east-1:000000000000:table/roomcast-local-items-dev',
    );
    expect(t.resolve({ 'Fn::Sub': '${Names}-${AWS::Partition}' })).toBe('a,b,c-aws');
    expect(t.resolve({ 'Fn::If': ['IsProd', 'big', 'small'] })).toBe('small');
    expect(t.resolve({ 'Fn::If': ['NotProd', 'yes', 'no'] })).toBe('yes');
    expect(t.resolve({ 'Fn::If': ['Loose', 'yes', 'no'] })).toBe('yes');
    expect(t.resolve({ 'Fn::If': ['DevAndLoose', 'yes', 'no'] })).toBe('yes');
    expect(t.resolve({ 'Fn::If': ['DevAndProd', 'yes', 'no'] })).toBe('no');
    expect(
      t.resolve({
        a: 1,
        b: { 'Fn::If': ['IsProd', 2, { Ref: 'AWS::NoValue' }] },
        c: [{ Ref: 'AWS::NoValue' }],
      }),
    ).toEqual({ a: 1, c: [] });
  });

  it('resolves Fn::Select, Fn::Split and Fn::FindInMap as CloudFormation does, refusing what it refuses', () => {
    const t = load(`${base}Mappings:\n  Sizes:\n    dev: { Memory: '256' }\n`);
    expect(t.resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'p/q/r'] }] })).toBe('q');
    expect(t.resolve({ 'Fn::FindInMap': ['Sizes', 'dev', 'Memory'] })).toBe('256');
    expect(() => t.resolve({ 'Fn::Select': [3, ['p', 'q']] }, 'X')).toThrow(
      'X.Fn::Select: index 3 is outside a list of 2',
    );
    expect(() => t.resolve({ 'Fn::FindInMap': ['Sizes', 'prod', 'Memory'] }, 'X')).toThrow(
      'X.Fn::FindInMap: Mappings.Sizes.prod.Memory is not declared',
    );
  });

  it.each([
    ['Fn::Join', ['-', ['a', 'b']]],
    ['Fn::Base64', 'hi'],
    ['Fn::GetAZs', ''],
    ['Fn::Cidr', ['10.0.0.0/16', 2, 8]],
    ['Fn::Or', [true, false]],
  ])('refuses %s, which template.yaml does not use, naming it and where it was found', (fn, arg) => {
    expect(() => load(base).resolve({ [fn]: arg }, 'Outputs.X.Value')).toThrow(
      `Outputs.X.Value.${fn}: ${fn} is not supported by the local cloud`,
    );
  });

  it('parses every short form into its long form', () => {
    const t = load(`${base}
Outputs:
  A: { Value: !GetAtt Table.Arn }
  B: { Value: !GetAtt [Table, Arn] }
  C: { Value: !Sub ['\${X}!', { X: !Ref Env }] }
  D: { Value: !If [IsProd, p, d] }
  G: { Value: !If [NotProd, yes, no] }
  H: { Value: !Join ['', [!Select [0, !Ref Names], !Base64 x]], Condition: IsProd }
`);
    expect(t.raw.Outputs).toMatchObject({
      A: { Value: { 'Fn::GetAtt': ['Table', 'Arn'] } },
      C: { Value: { 'Fn::Sub': ['${X}!', { X: { Ref: 'Env' } }] } },
      H: { Value: { 'Fn::Join': ['', [{ 'Fn::Select': [0, { Ref: 'Names' }] }, { 'Fn::Base64': 'x' }]] } },
    });
    expect(templateOutputs(t)).toEqual({
      A: 'arn:aws:dynamodb:us-east-1:000000000000:table/roomcast-local-items-dev',
      B: 'arn:aws:dynamodb:us-east-1:000000000000:table/roomcast-local-items-dev',
      C: 'dev!',
      D: 'd',
      G: 'yes',
    });
  });

  it('skips resources whose Condition is false and honours the parameter that flips it', () => {
    expect(
      load(base)
        .tables()
        .map((x) => x.logicalId),
    ).toEqual(['Table']);
    const prod = load(base, { parameters: { Env: 'prod' } });
    expect(prod.tables().map((x) => x.TableName)).toEqual([
      'roomcast-local-items-prod',
      'roomcast-local-ProdOnly',
    ]);
    expect(conditionHolds(prod, 'IsProd')).toBe(true);
    expect(conditionHolds(prod, 'NotProd')).toBe(false);
    expect(conditionHolds(load(base), 'NotProd')).toBe(true);
    expect(() => load(base).resolve({ Ref: 'ProdOnly' }, 'Outputs.X.Value')).toThrow(
      /Outputs\.X\.Value.*ProdOnly is not created/,
    );
  });

  it('keeps ProvisionedThroughput for PROVISIONED tables', () => {
    expect(load(base).tables()[0]).toMatchObject({
      BillingMode: 'PROVISIONED',
      ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 },
    });
  });

  it('names the logical id and the template path in errors', () => {
    const t = load(`${base}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Environment:
        Variables:
          X: !Ref Missing
  Fn2:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Environment:
        Variables:
          Y: !GetAtt Table.StreamArn
  Fn3:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Environment:
        Variables:
          Z: !ImportValue shared-thing
`);
    expect(() =>
      t.resolve(t.raw.Resources && (t.raw.Resources as Record<string, unknown>).Fn, 'Resources.Fn'),
    ).toThrow(
      /Resources\.Fn\.Properties\.Environment\.Variables\.X\.Ref: unknown resource or parameter Missing/,
    );
    expect(() => t.functions()).toThrow(/Missing/);
    expect(() => t.resolve({ 'Fn::GetAtt': ['Table', 'StreamArn'] }, 'Here')).toThrow(
      /Here.*StreamArn of Table \(AWS::DynamoDB::Table\) is not supported/,
    );
    expect(() => t.resolve({ 'Fn::ImportValue': 'x' }, 'There')).toThrow(
      /There\.Fn::ImportValue: Fn::ImportValue is not supported/,
    );
    expect(() => t.resolve({ 'Fn::Sub': '${Nope.Arn}' }, 'P')).toThrow(
      /P.*unknown resource or parameter Nope/,
    );
  });

  it('requires parameters without Default', () => {
    const yaml = `
Parameters:
  Needed: { Type: String }
Resources:
  Bus: { Type: AWS::Events::EventBus, Properties: { Name: !Ref Needed } }
`;
    expect(() => load(yaml)).toThrow(/Parameter Needed has no Default/);
    expect(load(yaml, { parameters: { Needed: 'b' } }).eventBuses()[0]?.name).toBe('b');
  });

  it('merges Globals, reads Events rules and inline definitions with substitutions', () => {
    const t = load(`
Globals:
  Function:
    Timeout: 5
    Handler: app.handler
    Environment:
      Variables: { A: global, B: global }
Resources:
  Bus: { Type: AWS::Events::EventBus, Properties: { Name: bus } }
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: worker
      CodeUri: src
      Environment:
        Variables: { B: own, C: !GetAtt Machine.Name }
      Events:
        OnThing:
          Type: EventBridgeRule
          Properties:
            EventBusName: !GetAtt Bus.Arn
            Pattern: { source: [thing] }
            InputPath: $.detail
  Machine:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: m
      StateMachineType: EXPRESS
      DefinitionString: '{"StartAt":"S","States":{"S":{"Type":"Task","Resource":"\${Fn}","End":true}}}'
      DefinitionSubstitutions:
        Fn: !GetAtt Worker.Arn
  Rule:
    Type: AWS::Events::Rule
    Properties:
      EventPattern: '{"detail-type":["X"]}'
      Targets:
        - { Id: m, Arn: !Ref Machine, RoleArn: !GetAtt SomeRole.Arn, Input: '{"k":1}' }
  SomeRole: { Type: AWS::IAM::Role, Properties: {} }
`);
    const [fn] = t.functions();
    expect(fn).toMatchObject({
      name: 'worker',
      handler: 'app.handler',
      timeoutSeconds: 5,
      memoryMb: 128,
      environment: { A: 'global', B: 'own', C: 'm' },
      entryPoint: join(scratch.path, 'src', 'app.js'),
    });
    const rules = t.eventRules();
    expect(rules).toEqual([
      {
        logicalId: 'Rule',
        busName: 'default',
        pattern: { 'detail-type': ['X'] },
        targets: [
          {
            kind: 'stateMachine',
            logicalId: 'Machine',
            arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:m',
            input: { k: 1 },
          },
        ],
      },
      {
        logicalId: 'WorkerOnThing',
        busName: 'bus',
        pattern: { source: ['thing'] },
        targets: [
          {
            kind: 'function',
            logicalId: 'Worker',
            arn: 'arn:aws:lambda:us-east-1:000000000000:function:worker',
            inputPath: '$.detail',
          },
        ],
      },
    ]);
    expect(t.stateMachines()[0]).toMatchObject({
      name: 'm',
      type: 'EXPRESS',
      definition: { States: { S: { Resource: 'arn:aws:lambda:us-east-1:000000000000:function:worker' } } },
    });
  });

  it('rejects a definition with a substitution left', () => {
    const t = load(`
Resources:
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Definition: { StartAt: S, States: { S: { Type: Pass, Result: '\${Missing}', End: true } } }
      DefinitionSubstitutions: { Other: x }
`);
    expect(() => t.stateMachines()).toThrow(
      /State machine Machine: \$\{Missing\} has no entry in DefinitionSubstitutions/,
    );
  });

  it('reads ReservedConcurrentExecutions and the stage RouteSettings that the local Lambda and gateway enforce', () => {
    const t = load(`
Parameters:
  Reserve:
    Type: Number
    Default: 5
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs22.x
      ReservedConcurrentExecutions: !Ref Reserve
  Free:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Runtime: nodejs22.x
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: ws
      ProtocolType: WEBSOCKET
      RouteSelectionExpression: $request.body.action
  Stage:
    Type: AWS::ApiGatewayV2::Stage
    Properties:
      ApiId: !Ref Api
      StageName: prod
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }
      RouteSettings:
        sendmessage: { ThrottlingBurstLimit: 10 }
  Integration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref Api
      IntegrationType: AWS_PROXY
      IntegrationUri: !Sub arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${Fn.Arn}/invocations
  Route:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref Api
      RouteKey: sendmessage
      Target: !Sub integrations/\${Integration}
`);
    const fns = Object.fromEntries(t.functions().map((f) => [f.logicalId, f]));
    expect(fns.Fn?.reservedConcurrency).toBe(5);
    expect(fns.Free?.reservedConcurrency).toBeUndefined();
    expect(t.webSocketApis()[0]).toMatchObject({
      stageThrottling: { rateLimit: 50, burstLimit: 100 },
      routeThrottling: { sendmessage: { burstLimit: 10 } },
    });
  });
});
