import { SignatureV4 } from '@smithy/signature-v4';
import { PolicyEngine, type PolicyHolder } from '../../tools/local/iam/policies';
import { NodeSha256, SigV4Verifier } from '../../tools/local/iam/sigv4';

/** The local cloud's IAM pieces on their own: the decision cache and the SigV4 verifier. */

const API = 'arn:aws:execute-api:us-east-1:000000000000:abc123/prod';
const holder = (resources: string[], effect = 'Allow'): PolicyHolder => ({
  logicalId: 'DeliverFunction',
  arn: 'arn:aws:sts::000000000000:assumed-role/roomcast-local-DeliverFunctionRole/roomcast-local-DeliverFunction',
  policies: [
    {
      name: 'inline',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: effect, Action: 'execute-api:ManageConnections', Resource: resources }],
      },
    },
  ],
});
const post = (id: string) => `${API}/POST/@connections/${id}`;
const tail = `${API}/POST/@connections/`.length;

describe('IAM decisions', () => {
  it('a fan-out to a thousand connections costs one policy evaluation when the policy covers every id', async () => {
    const engine = new PolicyEngine('000000000000', () => undefined);
    const deliver = holder([`${API}/POST/@connections/*`]);
    const ids = Array.from({ length: 1000 }, (_, i) => `conn${String(i).padStart(11, '0')}=`);
    const decisions = await Promise.all(
      ids.map((id) => engine.decide(deliver, 'execute-api:ManageConnections', post(id), tail)),
    );
    expect(new Set(decisions)).toEqual(new Set(['Allowed']));
    expect(engine.stats()).toEqual({ lookups: 1000, evaluations: 1 });
  });

  it('a policy that names one connection is decided per connection, never from another id', async () => {
    const engine = new PolicyEngine('000000000000', () => undefined);
    const one = holder([`${API}/POST/@connections/abc=`]);
    const decide = (id: string) => engine.decide(one, 'execute-api:ManageConnections', post(id), tail);
    expect(await decide('abc=')).toBe('Allowed');
    expect(await decide('abd=')).toBe('ImplicitlyDenied');
    expect(await decide('abc=')).toBe('Allowed');
  });

  it('an item key is part of the question only on a table whose statement has a Condition', async () => {
    const engine = new PolicyEngine('000000000000', () => undefined);
    const table = (name: string) => `arn:aws:dynamodb:us-east-1:000000000000:table/roomcast-local-${name}`;
    const writer: PolicyHolder = {
      ...holder([]),
      policies: [
        {
          name: 'inline',
          document: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: table('Subscriptions*') },
              {
                Effect: 'Allow',
                Action: 'dynamodb:UpdateItem',
                Resource: table('LimitsTable'),
                Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['post-budget#*'] } },
              },
            ],
          },
        },
      ],
    };
    const update = (name: string, key: string) =>
      engine.decide(writer, 'dynamodb:UpdateItem', table(name), undefined, { 'dynamodb:LeadingKeys': [key] });
    const keys = Array.from({ length: 100 }, (_, i) => `conn${i}=`);
    const subscriptions = await Promise.all(keys.map((key) => update('SubscriptionsTable', key)));
    expect(new Set(subscriptions)).toEqual(new Set(['Allowed']));
    expect(engine.stats().evaluations).toBe(1);
    expect(await update('LimitsTable', 'post-budget#1795719467#5')).toBe('Allowed');
    expect(await update('LimitsTable', 'typing#ROOM')).toBe('ImplicitlyDenied');
    expect(await update('LimitsTable', 'post-budget#1795719468#3')).toBe('Allowed');
    expect(await update('ConnectionsTable', 'conn1=')).toBe('ImplicitlyDenied');
  });

  it('GET is not POST, and an explicit Deny wins over an Allow', async () => {
    const engine = new PolicyEngine('000000000000', () => undefined);
    const deliver = holder([`${API}/POST/@connections/*`]);
    expect(
      await engine.decide(deliver, 'execute-api:ManageConnections', `${API}/GET/@connections/x=`, tail - 1),
    ).toBe('ImplicitlyDenied');
    const denied: PolicyHolder = {
      ...deliver,
      logicalId: 'Denied',
      policies: [...deliver.policies, ...holder([`${API}/POST/@connections/*`], 'Deny').policies],
    };
    expect(await engine.decide(denied, 'execute-api:ManageConnections', post('x='), tail)).toBe(
      'ExplicitlyDenied',
    );
  });
});

describe('SigV4 verification', () => {
  const credentials = { accessKeyId: 'local-DeliverFunction', secretAccessKey: 'secret-of-deliver' };
  const verifier = new SigV4Verifier('us-east-1', 'execute-api', (key) =>
    key === credentials.accessKeyId ? credentials.secretAccessKey : undefined,
  );

  /** A request signed as every SDK v3 client signs it. */
  async function signed(
    body: string,
    { signingDate = new Date(), region = 'us-east-1', key = credentials } = {},
  ) {
    const signer = new SignatureV4({
      credentials: key,
      region,
      service: 'execute-api',
      sha256: NodeSha256,
      // Like the SDK clients of these services: the payload hash is signed, not sent as a header.
      applyChecksum: false,
    });
    const request = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 3001,
        path: '/prod/@connections/abc%3D',
        query: {},
        headers: { host: '127.0.0.1:3001', 'content-type': 'application/json' },
        body,
      },
      { signingDate },
    );
    return { method: 'POST', url: '/prod/@connections/abc%3D', headers: request.headers };
  }

  async function outcome(
    request: Promise<Awaited<ReturnType<typeof signed>>>,
    sent: string,
  ): Promise<string> {
    const result = await verifier.verify(await request, Buffer.from(sent));
    return 'failure' in result
      ? `${result.failure.code}: ${result.failure.message}`
      : `accepted ${result.accessKeyId}`;
  }

  const body = '{"type":"message"}';

  it('accepts what the SDK signed with a known key', async () => {
    expect(await outcome(signed(body), body)).toBe('accepted local-DeliverFunction');
  });

  it('refuses a changed body, an old signature, another region, an unknown key and a missing signature', async () => {
    expect(await outcome(signed(body), '{"type":"forged"}')).toMatch(
      /^InvalidSignatureException: The request signature we calculated does not match/,
    );
    expect(await outcome(signed(body, { signingDate: new Date(Date.now() - 20 * 60_000) }), body)).toMatch(
      /^InvalidSignatureException: Signature expired/,
    );
    expect(await outcome(signed(body, { region: 'eu-west-1' }), body)).toMatch(
      /^InvalidSignatureException: Credential should be scoped to a valid region/,
    );
    expect(
      await outcome(signed(body, { key: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' } }), body),
    ).toMatch(/^UnrecognizedClientException: /);
    const unsigned = {
      method: 'POST',
      url: '/prod/@connections/abc%3D',
      headers: { host: '127.0.0.1:3001' },
    };
    expect(await outcome(Promise.resolve(unsigned), body)).toBe(
      'MissingAuthenticationTokenException: Request is missing Authentication Token',
    );
  });
});
