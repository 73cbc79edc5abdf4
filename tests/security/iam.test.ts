import { runSimulation } from '@cloud-copilot/iam-simulate';
import { LISTED_ROOM_ATTRIBUTES } from '#rooms/dynamoMemberships';
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

/**
 * Condition keys narrow a statement to the request's keys and attributes (dynamodb:LeadingKeys, dynamodb:Attributes,
 * dynamodb:Select: DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control"). Each
 * role's deployed statements are evaluated by @cloud-copilot/iam-simulate with the condition values DynamoDB puts in
 * the request context, as AWS would decide them.
 */
describe('fine-grained DynamoDB access', () => {
  const ACCOUNT = '123456789012';
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
    const documents = statements
      .filter((s) => s.role === role)
      .map((s, i) => ({
        name: `statement${i}`,
        policy: { Version: '2012-10-17', Statement: [resolved(s.statement)] },
      }));
    expect(documents.length).toBeGreaterThan(0);
    const result = await runSimulation(
      {
        identityPolicies: documents,
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action,
          principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/session`,
          resource: { accountId: ACCOUNT, resource: tableArn(table) },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
    return result.overallResult;
  }

  it("lets Deliver update the posting budget's counters and no other key of the Limits table", async () => {
    const update = (key: string) =>
      decide('DeliverFunctionRole', 'dynamodb:UpdateItem', 'LimitsTable', { 'dynamodb:LeadingKeys': [key] });
    expect(await update('post-budget#1764021600#0')).toBe('Allowed');
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
