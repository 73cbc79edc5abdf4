// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} syntax, not JS templates.
import { type Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { loadTemplate } from '../../tools/infra/template';
import { arnLike, routeAccess } from '../../tools/local/invokePermissions';
import { ChatClient } from '../helpers/chatClient';
import { editedTemplate, startTestCloud, type TestCloud, templatePath } from '../helpers/localCloud';

/**
 * API Gateway invokes a route's function (or its authorizer) only when an AWS::Lambda::Permission lets
 * apigateway.amazonaws.com do so from the route's source ARN; otherwise the client gets the gateway's Internal
 * server error and the function never runs (docs/PARITY.md, "Lambda permissions"). The local cloud refuses the
 * same, so a template that forgets a permission fails here before it fails on AWS.
 */

const LOOP = 'Fn::ForEach::FeatureIntegrations';

/**
 * template.yaml with RoomsFunction's permission taken out of the features' loop: Rooms keeps its integration (a
 * loop of its own that makes the integration only), and `permission`, when given, is added in its place.
 */
function withoutRoomsPermission(permission?: Record<string, unknown>): (doc: Document) => void {
  return (doc) => {
    const loop = doc.getIn(['Resources', LOOP], true) as YAMLSeq;
    const features = loop.items[1];
    const fragment = loop.items[2];
    if (!isSeq(features) || !isMap(fragment)) throw new Error(`${LOOP} is not [name, list, fragment]`);
    const at = features.items.findIndex(
      (item) => String((item as { value?: unknown }).value ?? item) === 'Rooms',
    );
    if (at === -1) throw new Error(`${LOOP} no longer lists Rooms`);
    features.items.splice(at, 1);
    const integration = (fragment as YAMLMap).get('${Feature}Integration', true);
    if (!integration) throw new Error(`${LOOP} no longer makes \${Feature}Integration`);
    const only = doc.createNode(['Feature', ['Rooms'], {}]) as YAMLSeq;
    (only.items[2] as YAMLMap).set('${Feature}Integration', integration);
    doc.setIn(['Resources', 'Fn::ForEach::RoomsIntegrationOnly'], only);
    if (permission) doc.setIn(['Resources', 'RoomsPermission'], doc.createNode(permission));
  };
}

const roomsPermissionFor = (stage: string) => ({
  Type: 'AWS::Lambda::Permission',
  Properties: {
    Action: 'lambda:InvokeFunction',
    FunctionName: { Ref: 'RoomsFunction' },
    Principal: 'apigateway.amazonaws.com',
    SourceArn: {
      'Fn::Sub': `arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${WebSocketApi}/${stage}/*`,
    },
  },
});

describe('at start: which routes API Gateway may invoke', () => {
  it('the real template lets it invoke every route, and the $connect authorizer with AuthMode=token', () => {
    for (const parameters of [{}, { AuthMode: 'token' }] as Record<string, string>[]) {
      const template = loadTemplate(templatePath, { parameters });
      const [api] = template.webSocketApis();
      if (!api) throw new Error('no WebSocket API');
      const access = routeAccess(template, api);
      expect(access.size).toBeGreaterThan(10);
      const refused = [...access].filter(([, a]) => a.integration || a.authorizer);
      expect(refused).toEqual([]);
      if (parameters.AuthMode === 'token')
        expect(access.get('$connect')).toHaveProperty('authorizer', undefined);
    }
  });

  it('without the authorizer permission, $connect is refused for its authorizer alone', () => {
    const copy = editedTemplate((doc) => doc.deleteIn(['Resources', 'AuthorizerPermission']));
    try {
      const template = loadTemplate(copy.path, { parameters: { AuthMode: 'token' } });
      const [api] = template.webSocketApis();
      if (!api) throw new Error('no WebSocket API');
      const connect = routeAccess(template, api).get('$connect');
      expect(connect?.integration).toBeUndefined();
      expect(connect?.authorizer).toMatch(
        /Invalid permissions on Lambda function AuthorizerFunction: .* from arn:aws:execute-api:[^:]+:\d+:[a-z0-9]+\/authorizers\/ConnectAuthorizer$/,
      );
    } finally {
      copy.remove();
    }
  });

  it('a SourceArn wildcard matches within an ARN part, never across its colons', () => {
    const arn = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/createroom';
    expect(arnLike('arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*', arn)).toBe(true);
    expect(arnLike('arn:aws:execute-api:us-east-1:123456789012:abc123/*/createroom', arn)).toBe(true);
    expect(arnLike('arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*', arn)).toBe(false);
    expect(arnLike('arn:aws:execute-api:*:abc123/prod/*', arn)).toBe(false);
    expect(arnLike('arn:aws:execute-api:*:*:abc123/prod/*', arn)).toBe(true);
  });
});

describe.each([
  ['no permission for RoomsFunction', undefined],
  ['RoomsFunction permitted for another stage only', roomsPermissionFor('otherstage')],
])('a template with %s', (_name, permission) => {
  let testCloud: TestCloud;
  let remove: () => void;
  let client: ChatClient | undefined;

  beforeAll(async () => {
    const copy = editedTemplate(withoutRoomsPermission(permission));
    remove = copy.remove;
    testCloud = await startTestCloud({ templatePath: copy.path }).catch((error: unknown) => {
      copy.remove();
      throw error;
    });
  });
  afterAll(async () => {
    await client?.close();
    await testCloud?.cloud.close();
    remove?.();
  });

  it('createroom gets the gateway Internal server error and RoomsFunction never runs; other routes work', async () => {
    client = await ChatClient.connect(testCloud.cloud.wsUrl, 'ann');
    // $default runs ConnectionFunction, whose permission is intact.
    expect((await client.expectReply({ action: 'help' })).type).toBe('info');
    const mark = testCloud.logs.length;
    const reply = await client.ask({ action: 'createroom' });
    expect(reply).toMatchObject({ message: 'Internal server error' });
    expect(testCloud.invocations.filter((i) => i.logicalId === 'RoomsFunction')).toEqual([]);
    expect(testCloud.logs.slice(mark).join('\n')).toMatch(
      /route integration failed.*Invalid permissions on Lambda function RoomsFunction.*\/createroom/,
    );
  });
});
