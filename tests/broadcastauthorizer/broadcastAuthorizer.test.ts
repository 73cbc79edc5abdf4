import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { forgetVerifier, handler } from '#broadcastauthorizer/index';
import { type DevIssuer, startDevIssuer } from '../../tools/local/oidc';

/**
 * The admin broadcast's TOKEN authorizer on its own, against a development OIDC issuer: who is let through to
 * POST /admin/broadcast (Allow), who is a signed-in non-admin (Deny: 403) and whose token is no good (Unauthorized:
 * 401). The groups claim of an OIDC provider is the deploy-time constant OidcGroupsClaim (OIDC_GROUPS_CLAIM).
 */
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/admin/broadcast';
const now = () => Math.floor(Date.now() / 1000);

let issuer: DevIssuer;

beforeAll(async () => {
  issuer = await startDevIssuer({ flavour: 'oidc', region: 'eu-west-1' });
  process.env.AUTH_MODE = 'oidc';
  process.env.ADMIN_GROUP = 'ops';
  process.env.OIDC_ISSUER = issuer.issuer;
  process.env.OIDC_AUDIENCE = issuer.clientId;
  process.env.OIDC_JWKS_URI = '';
});

afterAll(async () => {
  for (const name of [
    'AUTH_MODE',
    'ADMIN_GROUP',
    'OIDC_ISSUER',
    'OIDC_AUDIENCE',
    'OIDC_JWKS_URI',
    'OIDC_GROUPS_CLAIM',
  ])
    delete process.env[name];
  await issuer.close();
});

beforeEach(() => {
  process.env.OIDC_GROUPS_CLAIM = 'groups';
  forgetVerifier();
});

const event = (authorizationToken: string): APIGatewayTokenAuthorizerEvent => ({
  type: 'TOKEN',
  methodArn: METHOD_ARN,
  authorizationToken,
});

const token = (claims: Record<string, unknown>) =>
  issuer.sign({
    iss: issuer.issuer,
    aud: issuer.clientId,
    sub: 'sub-root',
    preferred_username: 'root',
    iat: now(),
    exp: now() + 600,
    ...claims,
  });

const effect = async (authorization: string) =>
  (await handler(event(authorization))).policyDocument.Statement.map((s) =>
    'Effect' in s ? s.Effect : undefined,
  );

it('allows a member of the admin group and names them to the function', async () => {
  const result = await handler(event(`Bearer ${await token({ groups: ['users', 'ops'] })}`));
  expect(result.policyDocument.Statement).toEqual([
    { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN },
  ]);
  expect(result.principalId).toBe('sub-root');
  expect(result.context).toEqual({ username: 'root' });
});

it('denies a valid token without the admin group (403), with no context for the function', async () => {
  for (const groups of [undefined, [], ['users'], ['Ops'], 'ops']) {
    const result = await handler(event(`Bearer ${await token(groups === undefined ? {} : { groups })}`));
    expect({
      groups,
      effects: result.policyDocument.Statement.map((s) => ('Effect' in s ? s.Effect : '')),
    }).toEqual({
      groups,
      effects: ['Deny'],
    });
    expect(result.context).toBeUndefined();
  }
});

it('reads the groups from the claim OidcGroupsClaim names', async () => {
  // A deploy-time constant: a new runtime (after the deploy that changed it) builds its verifier with the new claim.
  process.env.OIDC_GROUPS_CLAIM = 'roles';
  forgetVerifier();
  expect(await effect(`Bearer ${await token({ roles: ['ops'] })}`)).toEqual(['Allow']);
  expect(await effect(`Bearer ${await token({ groups: ['ops'] })}`)).toEqual(['Deny']);
});

it('refuses a bad token as Unauthorized (401) whatever its groups', async () => {
  const admin = await token({ groups: ['ops'] });
  const cases = [
    '',
    admin,
    `Basic ${admin}`,
    `Bearer ${await token({ groups: ['ops'], exp: now() - 120 })}`,
    `Bearer ${await token({ groups: ['ops'], aud: 'another-app' })}`,
    `Bearer ${await token({ groups: ['ops'], iss: 'https://evil.example.com' })}`,
    `Bearer ${await token({ groups: ['ops'], exp: undefined })}`,
  ];
  for (const authorization of cases) {
    await expect(handler(event(authorization))).rejects.toThrow('Unauthorized');
  }
});

it('lets nobody through when the stack has no sign-in (AuthMode token)', async () => {
  process.env.AUTH_MODE = 'token';
  try {
    // The configuration is read once per runtime (a cold start), so a fresh copy of the function reads it again.
    let fresh: typeof handler | undefined;
    jest.isolateModules(() => {
      fresh = require('#broadcastauthorizer/index').handler;
    });
    const admin = `Bearer ${await token({ groups: ['ops'] })}`;
    await expect((fresh as typeof handler)(event(admin))).rejects.toThrow('Unauthorized');
  } finally {
    process.env.AUTH_MODE = 'oidc';
  }
});
