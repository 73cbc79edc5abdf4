// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's ${} syntax, not JS templates.
import { transformedTemplate } from '../helpers/samTransform';

/**
 * The browser's admin broadcast route as API Gateway receives it, after the SAM transform: POST /admin/broadcast
 * needs a token the broadcast authorizer accepts (a sign-in token of a member of AdminGroupName), the IAM route stays
 * as it was, and CORS (the preflight, the gateway's refusals and the function's answers) names the CloudFront origin
 * of the hosted page when hosting is on, never `*`.
 */
type Operation = {
  security?: Record<string, unknown>[];
  'x-amazon-apigateway-integration'?: {
    type?: string;
    uri?: unknown;
    responses?: Record<string, { responseParameters?: Record<string, unknown> }>;
  };
};
type Authorizer = {
  type?: string;
  name?: string;
  in?: string;
  'x-amazon-apigateway-authtype'?: string;
  'x-amazon-apigateway-authorizer'?: {
    type?: string;
    authorizerUri?: unknown;
    authorizerResultTtlInSeconds?: number;
    identityValidationExpression?: string;
  };
};
type Body = {
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, Authorizer> };
  'x-amazon-apigateway-gateway-responses'?: Record<string, { responseParameters?: Record<string, unknown> }>;
};

const { Resources } = transformedTemplate();
const body = Resources.BroadcastApi?.Properties?.Body as Body;
const adminRoute = body.paths['/admin/broadcast']?.post;
const schemes = body.components?.securitySchemes ?? {};

it('puts POST /admin/broadcast behind the AdminToken authorizer, not IAM, into BroadcastFunction', () => {
  expect(adminRoute?.security).toEqual([{ AdminToken: [] }]);
  expect(adminRoute?.['x-amazon-apigateway-integration']?.type).toBe('aws_proxy');
  expect(JSON.stringify(adminRoute?.['x-amazon-apigateway-integration']?.uri)).toContain(
    'BroadcastFunction.Arn',
  );
  // Automation keeps its SigV4 route.
  expect(body.paths['/broadcast']?.post?.security).toEqual([{ AWS_IAM: [] }]);
});

it('runs BroadcastAuthorizerFunction on the Authorization header, uncached, only for Bearer tokens', () => {
  const scheme = schemes.AdminToken;
  expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
  expect(scheme?.['x-amazon-apigateway-authtype']).toBe('custom');
  const authorizer = scheme?.['x-amazon-apigateway-authorizer'];
  expect(authorizer?.type).toBe('token');
  expect(JSON.stringify(authorizer?.authorizerUri)).toContain('"BroadcastAuthorizerFunction","Arn"');
  // A cached Allow would outlive the token's expiry and a removal from the group.
  expect(authorizer?.authorizerResultTtlInSeconds).toBe(0);
  const expression = new RegExp(authorizer?.identityValidationExpression ?? '');
  expect(expression.test('Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl')).toBe(true);
  expect(
    expression.test('AWS4-HMAC-SHA256 Credential=AKIA/20260101/eu-west-1/execute-api/aws4_request'),
  ).toBe(false);
});

/** A deploy-time constant as template.yaml reads it: `!FindInMap [Deploy, Settings, <name>]`. */
const constant = (name: string) => ({ 'Fn::FindInMap': ['Deploy', 'Settings', name] });

it('checks membership of the group named by the AdminGroupName parameter, which the created user pool has', () => {
  const fn = Resources.BroadcastAuthorizerFunction?.Properties as {
    Environment: { Variables: Record<string, unknown> };
    Policies?: unknown;
  };
  expect(fn.Environment.Variables.ADMIN_GROUP).toEqual({ Ref: 'AdminGroupName' });
  // The claim that lists the groups (OidcGroupsClaim) is a deploy-time constant, like the issuer it belongs to.
  expect(fn.Environment.Variables.OIDC_GROUPS_CLAIM).toEqual(constant('OidcGroupsClaim'));
  expect(fn.Environment.Variables.OIDC_JWKS_URI).toEqual(constant('OidcJwksUri'));
  expect(Resources.AdminGroup?.Properties?.GroupName).toEqual({ Ref: 'AdminGroupName' });
});

it('lets the broadcast authorizer only log: no AWS permission, not even the settings document', () => {
  // The JWKS is a public document fetched over HTTPS; OidcJwksUri and OidcGroupsClaim are deploy-time constants in
  // its environment, so it reads no runtime setting and needs no SettingsReadPolicy.
  const role = Resources.BroadcastAuthorizerFunctionRole?.Properties as {
    Policies?: unknown[];
    ManagedPolicyArns?: unknown[];
  };
  expect(role.Policies ?? []).toEqual([]);
  expect(role.ManagedPolicyArns).toEqual([
    expect.stringMatching(/:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/),
  ]);
});

it('lets API Gateway invoke the authorizer and each route only from this API', () => {
  const permissions = Object.values(Resources).filter((r) => r.Type === 'AWS::Lambda::Permission');
  const of = (fn: string) =>
    permissions.filter((p) => JSON.stringify(p.Properties?.FunctionName).includes(`"${fn}"`));
  const authorizer = of('BroadcastAuthorizerFunction');
  expect(authorizer).toHaveLength(1);
  expect(JSON.stringify(authorizer[0]?.Properties?.SourceArn)).toContain(
    '"__ApiId__":{"Ref":"BroadcastApi"}',
  );
  const routes = of('BroadcastFunction').map((p) => JSON.stringify(p.Properties?.SourceArn));
  expect(routes).toHaveLength(2);
  expect(routes.some((arn) => arn.includes('/POST/admin/broadcast'))).toBe(true);
  expect(routes.some((arn) => arn.includes('/POST/broadcast'))).toBe(true);
});

describe('CORS', () => {
  // Every CORS answer of the API and of the function names the one origin the template decides (BroadcastOrigin).
  const origin = { 'Fn::GetAtt': ['BroadcastOrigin', 'Value'] };
  const quoted = { 'Fn::Sub': ["'${Origin}'", { Origin: origin }] };

  it('allows the CloudFront origin when hosting is on, the BroadcastAllowedOrigin constant otherwise', () => {
    expect(Resources.BroadcastOrigin?.Properties?.Value).toEqual({
      'Fn::If': [
        'HostWeb',
        { 'Fn::Sub': 'https://${WebDistribution.DomainName}' },
        constant('BroadcastAllowedOrigin'),
      ],
    });
  });

  it('answers the admin route preflight for that origin', () => {
    const preflight = body.paths['/admin/broadcast']?.options?.['x-amazon-apigateway-integration'];
    const headers = preflight?.responses?.default?.responseParameters ?? {};
    expect(headers['method.response.header.Access-Control-Allow-Origin']).toEqual(quoted);
    expect(String(headers['method.response.header.Access-Control-Allow-Headers'])).toContain('Authorization');
  });

  it('puts the same origin on the gateway refusals (401/403) and on the function answers', () => {
    const responses = body['x-amazon-apigateway-gateway-responses'] ?? {};
    expect(Object.keys(responses).sort()).toEqual(['DEFAULT_4XX', 'DEFAULT_5XX']);
    for (const response of Object.values(responses)) {
      expect(response.responseParameters?.['gatewayresponse.header.Access-Control-Allow-Origin']).toEqual(
        quoted,
      );
    }
    const fn = Resources.BroadcastFunction?.Properties as {
      Environment: { Variables: Record<string, unknown> };
    };
    expect(fn.Environment.Variables.BROADCAST_ALLOWED_ORIGIN).toEqual(origin);
  });

  it('never allows any origin', () => {
    expect(JSON.stringify(Resources.BroadcastApi)).not.toMatch(/'\*'/);
  });
});
