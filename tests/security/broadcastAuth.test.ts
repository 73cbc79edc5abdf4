import { transformedTemplate } from '../helpers/samTransform';

/**
 * The admin broadcast API as API Gateway receives it, after the SAM transform: a caller needs only a SigV4
 * signature and `execute-api:Invoke` (docs/ACCESS.md). With SAM's default `InvokeRole` (CALLER_CREDENTIALS) the
 * integration carries `credentials: arn:aws:iam::*:user/*`, and API Gateway then invokes the function with the
 * caller's own identity, so every admin would also need `lambda:InvokeFunction` on it.
 */
type Operation = {
  security?: Record<string, unknown>[];
  'x-amazon-apigateway-integration'?: { type?: string; credentials?: unknown; uri?: unknown };
};
type Body = { paths: Record<string, Record<string, Operation>> };

const { Resources } = transformedTemplate();
const api = Resources.BroadcastApi;
const paths = (api?.Properties?.Body as Body | undefined)?.paths ?? {};
const operations = Object.entries(paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    route: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);
const signed = operations.filter(({ operation }) => operation.security?.some((s) => 'AWS_IAM' in s));

it('signs POST /broadcast with AWS_IAM', () => {
  expect(api?.Type).toBe('AWS::ApiGateway::RestApi');
  expect(signed.map(({ route }) => route)).toEqual(['POST /broadcast']);
});

it('invokes the function without the caller credentials, so execute-api:Invoke is enough', () => {
  for (const { route, operation } of signed) {
    const integration = operation['x-amazon-apigateway-integration'];
    expect({ route, type: integration?.type }).toEqual({ route, type: 'aws_proxy' });
    // No credentials at all: neither the caller's (arn:aws:iam::*:user/*) nor a role the caller must pass.
    expect({ route, credentials: integration?.credentials }).toEqual({ route, credentials: undefined });
  }
});

it('lets API Gateway invoke BroadcastFunction by a resource-based permission scoped to this API, per route', () => {
  const permissions = Object.values(Resources).filter(
    (r) =>
      r.Type === 'AWS::Lambda::Permission' &&
      (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === 'BroadcastFunction',
  );
  // POST /broadcast (IAM) and POST /admin/broadcast (the admin's token, tests/security/adminBroadcastAuth.test.ts).
  expect(permissions).toHaveLength(2);
  for (const permission of permissions) {
    expect(permission?.Properties).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
    expect(JSON.stringify(permission?.Properties?.SourceArn)).toContain('"__ApiId__":{"Ref":"BroadcastApi"}');
  }
  const arns = permissions.map((p) => JSON.stringify(p.Properties?.SourceArn));
  expect(arns.filter((arn) => arn.includes('/POST/broadcast'))).toHaveLength(1);
  expect(arns.filter((arn) => arn.includes('/POST/admin/broadcast'))).toHaveLength(1);
});
