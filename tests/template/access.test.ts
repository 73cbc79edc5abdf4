import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import { restRoutes } from '../../tools/local/restApi';

/**
 * Log groups, the admin broadcast API and the $connect authorizer as template.yaml declares them, checked on the raw
 * template (every resource, whatever its Condition) and as the local cloud resolves it for each AuthMode.
 */
const templatePath = join(__dirname, '..', '..', 'template.yaml');
const template = loadTemplate(templatePath);
type Resource = { Type: string; Condition?: string; Properties: Record<string, unknown> };
const resources = template.raw.Resources as Record<string, Resource>;
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');

describe('log groups', () => {
  it.each(functions.map(([id]) => id))('%s logs to its own log group with a retention', (id) => {
    const fn = resources[id] as Resource;
    const logGroupRef = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup
      ?.Ref;
    expect(typeof logGroupRef).toBe('string');
    const logGroup = resources[logGroupRef as string];
    expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup?.Properties.RetentionInDays).toBeDefined();
    // A conditional function's log group exists exactly when the function does.
    expect(logGroup?.Condition).toBe(fn.Condition);
  });

  it('gives every function a log group of its own', () => {
    const groups = functions.map(
      ([, r]) => (r.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
    );
    expect(new Set(groups).size).toBe(functions.length);
  });
});

describe('admin broadcast API', () => {
  const api = resources.BroadcastApi as Resource;

  it('requires IAM (SigV4) on every method but the CORS preflight and the admin token route', () => {
    expect(api.Properties.Auth).toMatchObject({
      DefaultAuthorizer: 'AWS_IAM',
      AddDefaultAuthorizerToCorsPreflight: false,
      InvokeRole: 'NONE',
    });
    const routes = restRoutes(loadTemplate(templatePath, { parameters: { AuthMode: 'cognito' } }));
    expect(routes.map((r) => [r.method, r.path, r.authorizer?.functionLogicalId])).toEqual([
      ['POST', '/broadcast', undefined],
      ['POST', '/admin/broadcast', 'BroadcastAuthorizerFunction'],
    ]);
  });

  it('runs the admin token authorizer on the Bearer header and gives its function no AWS permission', () => {
    const [, admin] = restRoutes(template);
    expect(admin?.authorizer).toEqual({
      name: 'AdminToken',
      functionLogicalId: 'BroadcastAuthorizerFunction',
      header: 'Authorization',
      validationExpression: '^Bearer [-_.A-Za-z0-9]+$',
    });
    // No permission at all: its settings are deploy-time constants (functions/platform/signIn.ts).
    expect((resources.BroadcastAuthorizerFunction as Resource).Properties.Policies).toBeUndefined();
  });

  it('allows CORS from the configured origin only', () => {
    const local = loadTemplate(templatePath, {
      parameters: { HostWebChat: 'false' },
      constants: { BroadcastAllowedOrigin: 'https://ops.example.com' },
    });
    const [route] = restRoutes(local);
    expect(route).toMatchObject({
      functionLogicalId: 'BroadcastFunction',
      method: 'POST',
      path: '/broadcast',
    });
    expect(route?.cors?.allowOrigin).toBe('https://ops.example.com');
    // The template's own value is one origin (its rule in Mappings.Deploy.Rules, which npm run lint checks, says so too).
    const deploy = (template.raw.Mappings as { Deploy: { Settings: Record<string, string> } }).Deploy
      .Settings;
    expect(deploy.BroadcastAllowedOrigin).toMatch(/^https?:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/);
  });

  it('lets the broadcast function read rooms, publish on the chat bus and mark its time on record, and nothing else', () => {
    const policies = (resources.BroadcastFunction as Resource).Properties.Policies as (
      | { Statement: unknown[] }
      | { Ref: string }
    )[];
    // Besides reading the settings document (LobbyPolicy), which every function does.
    expect(policies.filter((p) => 'Ref' in p)).toEqual([{ Ref: 'SettingsReadPolicy' }]);
    const statements = policies.flatMap((p) => ('Statement' in p ? p.Statement : [])) as {
      Action: string | string[];
    }[];
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'events:PutEvents',
    ]);
  });
});

describe('$connect authorizer (AuthMode)', () => {
  const connectRoute = (mode: string) =>
    loadTemplate(templatePath, { parameters: { AuthMode: mode } })
      .webSocketApis()[0]
      ?.routes.find((r) => r.routeKey === '$connect');

  it('is on by default (Cognito sign-in); AuthMode=none lets anyone connect', () => {
    expect(connectRoute('cognito')?.authorizer?.functionLogicalId).toBe('AuthorizerFunction');
    expect(template.functions().map((f) => f.logicalId)).toContain('AuthorizerFunction');
    expect(connectRoute('none')?.authorizer).toBeUndefined();
    const open = loadTemplate(templatePath, { parameters: { AuthMode: 'none' } });
    expect(open.functions().map((f) => f.logicalId)).not.toContain('AuthorizerFunction');
  });

  it('with AuthMode=token, runs the authorizer on the token query parameter', () => {
    expect(connectRoute('token')?.authorizer).toEqual({
      functionLogicalId: 'AuthorizerFunction',
      identitySource: ['route.request.querystring.token'],
    });
  });

  it.each(['cognito', 'oidc'])(
    'with AuthMode=%s, gives the authorizer no AWS permission at all (its settings are deploy-time constants)',
    (mode) => {
      const local = loadTemplate(templatePath, { parameters: { AuthMode: mode } });
      expect(local.resolve((resources.AuthorizerFunction as Resource).Properties.Policies)).toEqual([]);
      expect(connectRoute(mode)?.authorizer?.functionLogicalId).toBe('AuthorizerFunction');
    },
  );

  it('lets the authorizer read only its secret parameter', () => {
    const local = loadTemplate(templatePath, {
      parameters: { AuthMode: 'token' },
      constants: { AuthSecretParameterName: '/chat/key' },
    });
    const policies = local.resolve(
      (local.raw.Resources as Record<string, Resource>).AuthorizerFunction?.Properties.Policies,
    ) as ({ Statement: { Action: string; Resource: string }[] } | string)[];
    // No managed policy: it reads no settings document (functions/platform/signIn.ts).
    expect(policies.filter((p) => typeof p === 'string')).toEqual([]);
    expect(policies.flatMap((p) => (typeof p === 'string' ? [] : p.Statement))).toEqual([
      expect.objectContaining({
        Action: 'ssm:GetParameter',
        Resource: expect.stringMatching(/:parameter\/chat\/key$/),
      }),
    ]);
  });
});
