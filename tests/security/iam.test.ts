import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { LISTED_ROOM_ATTRIBUTES } from '#rooms/dynamoMemberships';
import { loadTemplate } from '../../tools/infra/template';
import { transformedTemplate } from '../helpers/samTransform';

/**
 * Least privilege, read from what CloudFormation would deploy: template.yaml after the SAM transform (the
 * translator that ships with cfn-lint), so the roles SAM generates from `Policies:` are checked, not just the YAML.
 */

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
}

/**
 * Statements allowed to name every resource, each with the reason AWS gives no narrower form. Keyed by role
 * logical id and Sid, so a new `*` anywhere else fails this test.
 */
const WILDCARD_RESOURCE_ALLOWED: Record<string, string> = {
  'StateMachineTasksPolicy/ExecutionLogDelivery':
    'Step Functions vends its execution logs (both state machines) through CloudWatch Logs log delivery, whose actions only accept "*" (AWS docs: "Logging using CloudWatch Logs", IAM policies for logging).',
  'BroadcastStateMachineRole/CountGiveUp':
    'cloudwatch:PutMetricData has no resource type ("*" only: Service Authorization Reference, Amazon CloudWatch); the statement is held to roomcast\'s namespace by cloudwatch:namespace.',
};

/** AWS managed policies a role may carry, with why; none of them is a FullAccess policy. */
const MANAGED_POLICIES_ALLOWED: Record<string, string> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole':
    'logs:CreateLogStream/PutLogEvents for the function; SAM adds it to every function role.',
  'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess':
    'Tracing: Active; X-Ray PutTraceSegments/PutTelemetryRecords only support Resource "*".',
};

const template = transformedTemplate();

function policyStatements(): { where: string; role: string; statement: Statement }[] {
  const found: { where: string; role: string; statement: Statement }[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const documents: { name: string; doc: { Statement: Statement | Statement[] } }[] = [];
    if (resource.Type === 'AWS::IAM::Role') {
      // A policy under Fn::If (e.g. the authorizer's SSM read, AuthMode=token only): check both branches.
      const entries = ((props.Policies as Record<string, unknown>[] | undefined) ?? []).flatMap((p) =>
        Array.isArray(p['Fn::If']) ? (p['Fn::If'] as unknown[]).slice(1) : [p],
      ) as { PolicyName?: string; PolicyDocument?: never }[];
      for (const p of entries)
        if (p.PolicyDocument)
          documents.push({ name: p.PolicyName ?? '(conditional)', doc: p.PolicyDocument });
    }
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy')
      documents.push({ name: logicalId, doc: props.PolicyDocument as never });
    for (const { name, doc } of documents) {
      const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
      for (const statement of statements)
        found.push({
          where: `${logicalId}/${name}/${statement.Sid ?? '(no Sid)'}`,
          role: logicalId,
          statement,
        });
    }
  }
  return found;
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const statements = policyStatements();

test('the transformed template has IAM roles with inline statements to check', () => {
  expect(
    Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Role').length,
  ).toBeGreaterThanOrEqual(10);
  expect(statements.length).toBeGreaterThanOrEqual(20);
});

test('no IAM statement allows "*" or a whole service ("service:*"), or any action wildcard', () => {
  const wild = statements.flatMap(({ where, statement }) =>
    asList(statement.Action)
      .filter((action) => typeof action !== 'string' || action.includes('*'))
      .map((action) => `${where}: ${JSON.stringify(action)}`),
  );
  expect(wild).toEqual([]);
});

test('Resource "*" appears only in the documented statements that AWS offers no narrower form for', () => {
  const wildcard = statements
    .filter(({ statement }) => asList(statement.Resource).some((r) => r === '*'))
    .map(({ role, statement }) => `${role}/${statement.Sid ?? '(no Sid)'}`);
  expect(wildcard.sort()).toEqual(Object.keys(WILDCARD_RESOURCE_ALLOWED).sort());
  // Every statement with a known resource names it (a table, index, bus, function, parameter or API stage).
  const unnamed = statements.filter(
    ({ statement }) => statement.Resource === undefined && statement.Principal === undefined,
  );
  expect(unnamed.map((s) => s.where)).toEqual([]);
});

test('execute-api:ManageConnections is limited to this API and stage, one method each', () => {
  const manage = statements.filter(({ statement }) =>
    asList(statement.Action).includes('execute-api:ManageConnections'),
  );
  expect(manage.length).toBeGreaterThanOrEqual(1);
  for (const { where, statement } of manage) {
    for (const resource of asList(statement.Resource)) {
      const sub = (resource as { 'Fn::Sub'?: unknown })['Fn::Sub'];
      expect({ where, resource: typeof sub === 'string' ? sub : resource }).toEqual({
        where,
        resource: expect.stringMatching(
          /^arn:\$\{AWS::Partition\}:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:\$\{WebSocketApi\}\/\$\{StageName\}\/(POST|GET|DELETE)\/@connections\/\*$/,
        ),
      });
    }
  }
});

test('no role carries a FullAccess (or any undocumented) managed policy', () => {
  const attached = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .flatMap(([id, r]) =>
      asList(r.Properties?.ManagedPolicyArns as string[] | undefined).map((arn) => ({
        id,
        arn: JSON.stringify(arn),
      })),
    );
  expect(attached.filter(({ arn }) => /FullAccess|AdministratorAccess|PowerUser/i.test(arn))).toEqual([]);
  // The template's own managed policies (`!Ref <AWS::IAM::ManagedPolicy>`) are allowed: their statements are
  // checked by the tests above with every other statement.
  const own = (arn: unknown) => {
    const ref = (arn as { Ref?: string } | null)?.Ref;
    return typeof ref === 'string' && template.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy';
  };
  expect(attached.some(({ arn }) => own(JSON.parse(arn)))).toBe(true);
  expect(
    attached.filter(({ arn }) => !own(JSON.parse(arn)) && !(JSON.parse(arn) in MANAGED_POLICIES_ALLOWED)),
  ).toEqual([]);
});

const ACCOUNT = '123456789012';

/**
 * IAM's decision (iam-simulate) on `role`, in ACCOUNT, doing `action` on `resource` under the identity policy
 * `statements` (one document each), with the request's condition keys `context`.
 */
async function simulate(
  statements: unknown[],
  {
    role,
    action,
    resource,
    context,
  }: { role: string; action: string; resource: string; context: Record<string, string | string[]> },
): Promise<string> {
  const result = await runSimulation(
    {
      identityPolicies: statements.map((statement, i) => ({
        name: `statement${i}`,
        policy: { Version: '2012-10-17', Statement: [statement] },
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session`,
        resource: { accountId: ACCOUNT, resource },
        contextVariables: context,
      },
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return result.overallResult;
}

/**
 * Condition keys narrow a statement to the request's keys and attributes (dynamodb:LeadingKeys, dynamodb:Attributes,
 * dynamodb:Select: DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control"). Each
 * role's deployed statements are evaluated by @cloud-copilot/iam-simulate with the condition values DynamoDB puts in
 * the request context, as AWS would decide them.
 */
describe('fine-grained DynamoDB access', () => {
  const tableArn = (logicalId: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${logicalId}`;

  /** The intrinsics these statements use, resolved to one stack's names: a table's Arn, a !Sub of one. */
  function resolved(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolved);
    if (typeof value !== 'object' || value === null) return value;
    const node = value as Record<string, unknown>;
    const getAtt = node['Fn::GetAtt'] as [string, string] | undefined;
    if (getAtt) return getAtt[1] === 'Arn' ? tableArn(getAtt[0]) : `unresolved:${getAtt.join('.')}`;
    const inMap = node['Fn::FindInMap'] as [string, string, string] | undefined;
    if (inMap) {
      const mappings = (template as { Mappings?: Record<string, Record<string, Record<string, unknown>>> })
        .Mappings;
      return mappings?.[inMap[0]]?.[inMap[1]]?.[inMap[2]] ?? `unresolved:${inMap.join('.')}`;
    }
    if ('Fn::Sub' in node || 'Fn::If' in node || 'Ref' in node) return 'unresolved';
    return Object.fromEntries(Object.entries(node).map(([key, v]) => [key, resolved(v)]));
  }

  async function decide(
    role: string,
    action: string,
    table: string,
    context: Record<string, string | string[]>,
  ): Promise<string> {
    const documents = statements.filter((s) => s.role === role).map((s) => resolved(s.statement));
    expect(documents.length).toBeGreaterThan(0);
    return simulate(documents, { role, action, resource: tableArn(table), context });
  }

  it("lets Deliver update the posting budget's counters and departure records and no other key of the Limits table", async () => {
    const update = (key: string) =>
      decide('DeliverFunctionRole', 'dynamodb:UpdateItem', 'LimitsTable', { 'dynamodb:LeadingKeys': [key] });
    expect(await update('post-budget#1764021600#0')).toBe('Allowed');
    // The departure machine's settle marks the user's record settled (departure.ts settleDeparture).
    expect(await update('departed#user:ann')).toBe('Allowed');
    // The guards' quotas and buckets share the table: a join-guess bucket, a source's places, an owner's quota.
    expect(await update('join-guesses#203.0.113.7')).not.toBe('Allowed');
    expect(await update('source#203.0.113.7')).not.toBe('Allowed');
    expect(await update('rooms-created#user:ann')).not.toBe('Allowed');
  });

  it('lets myrooms read the room attributes its list reads (LISTED_ROOM_ATTRIBUTES) and no others', async () => {
    const read = (attributes: readonly string[]) =>
      decide('RoomsFunctionRole', 'dynamodb:BatchGetItem', 'RoomsTable', {
        'dynamodb:Attributes': [...attributes],
      });
    expect(await read(LISTED_ROOM_ATTRIBUTES)).toBe('Allowed');
    // A room's removed names and the fan-out's lease on the item are not the caller's to read.
    expect(await read([...LISTED_ROOM_ATTRIBUTES, 'removedNames'])).not.toBe('Allowed');
    expect(await read(['roomId', 'leaseOwner'])).not.toBe('Allowed');
  });

  it("lets the broadcast machine's Scan read connection ids and no other attribute, and the fan-out none", async () => {
    const scan = (context: Record<string, string | string[]>) =>
      decide('BroadcastStateMachineRole', 'dynamodb:Scan', 'ConnectionsTable', context);
    expect(
      await decide('FanoutStateMachineRole', 'dynamodb:Scan', 'ConnectionsTable', {
        'dynamodb:Attributes': ['connectionId'],
        'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
      }),
    ).not.toBe('Allowed');
    expect(
      await scan({ 'dynamodb:Attributes': ['connectionId'], 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' }),
    ).toBe('Allowed');
    expect(
      await scan({
        'dynamodb:Attributes': ['connectionId', 'username'],
        'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
      }),
    ).not.toBe('Allowed');
    expect(await scan({ 'dynamodb:Select': 'ALL_ATTRIBUTES' })).not.toBe('Allowed');
  });
});

/**
 * The Limits table holds every guard's buckets and the fan-out's own items (a room's cursor, the posting budget's
 * counters): each role may write only the keys its code writes, by `dynamodb:LeadingKeys` on every write statement.
 */
describe('writes to the Limits table, by key prefix', () => {
  const limitsArn = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/LimitsTable`;
  const WRITES = [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ];
  const onLimits = (statement: Statement) =>
    asList(statement.Resource).some((r) => JSON.stringify(r).includes('"LimitsTable"'));

  /** The role's statements, its inline ones and those of the template's managed policies it attaches. */
  function roleStatements(role: string): Statement[] {
    const attached = asList(template.Resources[role]?.Properties?.ManagedPolicyArns as unknown[]).flatMap(
      (arn) => {
        const ref = (arn as { Ref?: string } | null)?.Ref;
        return ref ? statements.filter((s) => s.role === ref).map((s) => s.statement) : [];
      },
    );
    return [...statements.filter((s) => s.role === role).map((s) => s.statement), ...attached];
  }

  async function mayWrite(role: string, action: string, key: string): Promise<boolean> {
    const documents = roleStatements(role)
      .filter(onLimits)
      .map((statement) => ({ ...statement, Resource: limitsArn }));
    if (documents.length === 0) return false;
    const context = { 'dynamodb:LeadingKeys': [key] };
    return (await simulate(documents, { role, action, resource: limitsArn, context })) === 'Allowed';
  }

  it('holds every write statement on the Limits table to key prefixes', () => {
    const unscoped = statements
      .filter(({ statement }) => onLimits(statement))
      .filter(({ statement }) => asList(statement.Action).some((a) => WRITES.includes(a as string)))
      .filter(({ statement }) => {
        const condition = (statement as { Condition?: Record<string, Record<string, unknown>> }).Condition;
        return !Object.values(condition ?? {}).some((keys) => 'dynamodb:LeadingKeys' in keys);
      })
      .map(({ where }) => where);
    expect(unscoped).toEqual([]);
    // And no role writes the table but those below, each tested for its keys.
    const writers = new Set(
      statements
        .filter(
          ({ statement }) =>
            onLimits(statement) && asList(statement.Action).some((a) => WRITES.includes(a as string)),
        )
        .map(({ role }) => role),
    );
    expect([...writers].sort()).toEqual(Object.keys(OWN).sort());
  });

  // Each function's own keys (the code that writes them: functions/core/limits, attachments.ts, functions/deliver,
  // functions/typing), and two keys of the fan-out every other role is refused.
  const OWN: Record<string, string[]> = {
    ConnectionFunctionRole: ['connect#user:ann', 'connections#203.0.113.7', 'departed#user:ann'],
    MessagesFunctionRole: ['lobby#203.0.113.7'],
    RoomsFunctionRole: ['room#user:ann', 'join#203.0.113.7'],
    PeopleFunctionRole: ['room#user:ann'],
    ReadingFunctionRole: ['rate#read#user:ann'],
    AttachmentsFunctionRole: ['attach#user:ann'],
    SafetyFunctionRole: ['report#user:ann'],
    PushFunctionRole: ['push#ROOM22#user:ann'],
    TypingFunctionRole: ['typing#ROOM22#user:ann', 'post-budget#1764021600#0'],
    DeliverFunctionRole: ['post-budget#1764021600#0', 'departed#user:ann'],
    FanoutStateMachineRole: ['fanout-cursor#ROOM22'],
  };
  const FOREIGN = [
    'fanout-cursor#ROOM22',
    'post-budget#1764021600#0',
    'attach#user:ann',
    'join#203.0.113.7',
    'departed#user:ann',
  ];
  // The write each key takes: a departure record is put whole by $disconnect and marked settled by Deliver
  // (departure.ts), every other key updated.
  const writeOf = (role: string, key: string) =>
    key.startsWith('departed#') && role === 'ConnectionFunctionRole'
      ? 'dynamodb:PutItem'
      : 'dynamodb:UpdateItem';

  it.each(Object.entries(OWN))(
    'lets %s write its own keys of the Limits table and no other',
    async (role, own) => {
      for (const key of own)
        expect({ key, allowed: await mayWrite(role, writeOf(role, key), key) }).toEqual({
          key,
          allowed: true,
        });
      for (const key of FOREIGN.filter((k) => !own.includes(k)))
        for (const action of WRITES)
          expect({ key, action, allowed: await mayWrite(role, action, key) }).toEqual({
            key,
            action,
            allowed: false,
          });
    },
  );
});

/**
 * Closing a connection (`DELETE @connections`) is granted to exactly the functions whose code closes one: those
 * whose bundle carries the management API's DeleteConnectionCommand (the frame guard's close of an abusive connection runs
 * in every route's pipeline, core/websocket.ts). Read from the bundles jest's set-up has just built.
 */
test('DELETE @connections is granted to the functions that close connections, and to no other role', () => {
  const root = join(__dirname, '..', '..');
  const closers = loadTemplate(join(root, 'template.yaml'))
    .functions()
    .filter((fn) => {
      const [moduleName] = fn.handler.split('.') as [string];
      // The bundle's source map names every module that left code in it (esbuild drops what it shook out).
      const map = join(root, 'dist', 'functions', fn.logicalId, `${moduleName}.js.map`);
      const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
      return sources.some((source) => source.endsWith('/commands/DeleteConnectionCommand.js'));
    })
    .map((fn) => `${fn.logicalId}Role`);
  const granted = Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Role')
    .filter(([role, resource]) => {
      const own = statements.filter((s) => s.role === role).map((s) => s.statement);
      const attached = asList(resource.Properties?.ManagedPolicyArns as unknown[]).flatMap((arn) => {
        const ref = (arn as { Ref?: string } | null)?.Ref;
        return ref ? statements.filter((s) => s.role === ref).map((s) => s.statement) : [];
      });
      return [...own, ...attached].some(
        (statement) =>
          asList(statement.Action).includes('execute-api:ManageConnections') &&
          JSON.stringify(statement.Resource).includes('/DELETE/@connections/'),
      );
    })
    .map(([role]) => role);
  expect(closers.length).toBeGreaterThan(0);
  expect(granted.sort()).toEqual(closers.sort());
});
