import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { deployConstant } from '../helpers/deployConstant';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The admin broadcast from a browser: POST /admin/broadcast with `Authorization: Bearer <sign-in token>`, behind the
 * broadcast API's TOKEN authorizer (aws-jwt-verify plus the admin group check), on the local cloud with its
 * development issuer. Refusals are API Gateway's: 401 without or with a bad token, 403 for a valid token of
 * someone outside the group, each with the CORS origin of the API's gateway responses; the function never runs.
 */
jest.setTimeout(240_000);

const isBroadcast =
  (messageId: unknown): ((f: Frame) => boolean) =>
  (f) =>
    f.type === 'broadcast' && f.messageId === messageId;

const EXPLICIT_DENY = {
  Message: 'User is not authorized to access this resource with an explicit deny in an identity-based policy',
};

describe.each([
  ['cognito', { AuthMode: 'cognito' }],
  ['oidc', { AuthMode: 'oidc' }],
])('AuthMode=%s', (mode, parameters) => {
  let testCloud: TestCloud;
  let cloud: LocalCloud;
  let issuer: DevIssuer;
  const open: ChatClient[] = [];
  const adminGroup = () => cloud.template.parameter('AdminGroupName') as string;

  beforeAll(async () => {
    testCloud = await startTestCloud({ parameters });
    cloud = testCloud.cloud;
    issuer = cloud.devIssuer as DevIssuer;
  });

  afterAll(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await testCloud?.settle();
    await cloud?.close();
  });

  async function member(username: string): Promise<ChatClient> {
    const { idToken } = await issuer.mint(username);
    const client = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(idToken)}`);
    open.push(client);
    return client;
  }

  // The stage throttles the admin route at 5 calls/s (burst 10), locally as on AWS: the calls here keep to its rate.
  let lastPost = 0;
  async function post(body: unknown, authorization?: string) {
    const wait = lastPost + 200 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    lastPost = Date.now();
    const response = await fetch(`${cloud.httpUrl}/admin/broadcast`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(authorization !== undefined && { Authorization: authorization }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      origin: response.headers.get('access-control-allow-origin'),
      json: (await response.json()) as Record<string, unknown>,
    };
  }

  const bearer = async (username: string, groups: string[], ttlSeconds?: number) =>
    `Bearer ${(await issuer.mint(username, { groups, ...(ttlSeconds !== undefined && { ttlSeconds }) })).idToken}`;

  /** How many times BroadcastFunction ran since `from` (an index into the invocation list). */
  const broadcastRuns = (from: number) =>
    testCloud.invocations.slice(from).filter((i) => i.logicalId === 'BroadcastFunction').length;

  it('lets a member of the admin group broadcast, and the room receives it', async () => {
    const alice = await member(`alice-${mode}`);
    const roomId = (await alice.expectReply({ action: 'createroom' })).roomId as string;
    const res = await post(
      { message: 'Maintenance at 22:00 UTC', roomId },
      await bearer('root', [adminGroup()]),
    );
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ messageId: expect.any(String) });
    expect(res.origin).toBe(deployConstant(cloud.template, 'BroadcastAllowedOrigin'));
    expect(await alice.next(isBroadcast(res.json.messageId), undefined, 'the broadcast')).toMatchObject({
      roomId,
      text: 'Maintenance at 22:00 UTC',
    });
    expect(testCloud.logs.join('\n')).toMatch(/broadcast queued.*"by":"root"/);
  });

  it('refuses a signed-in user outside the admin group with 403, and nothing is broadcast', async () => {
    const carol = await member(`carol-${mode}`);
    const from = testCloud.invocations.length;
    const started = cloud.executions().started;
    for (const groups of [[], ['users'], [`${adminGroup()}x`]]) {
      const res = await post({ message: 'I am not an admin' }, await bearer('mallory', groups));
      expect({ status: res.status, body: res.json }).toEqual({ status: 403, body: EXPLICIT_DENY });
      expect(res.origin).toBe(deployConstant(cloud.template, 'BroadcastAllowedOrigin'));
    }
    await testCloud.settle();
    expect(broadcastRuns(from)).toBe(0);
    expect(cloud.executions().started).toBe(started);
    expect(carol.frames.filter((f) => f.type === 'broadcast')).toEqual([]);
  });

  it('refuses a call without a token, or with an expired, forged or malformed one, with 401', async () => {
    const from = testCloud.invocations.length;
    const admin = await bearer('root', [adminGroup()]);
    const [, payload] = admin.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString());
    const forged = admin.replace(
      payload as string,
      Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url'),
    );
    const cases: [string, string | undefined][] = [
      ['no Authorization header', undefined],
      ['empty header', ''],
      ['not a Bearer token', admin.replace('Bearer ', 'Basic ')],
      ['expired', await bearer('root', [adminGroup()], -120)],
      ['tampered payload', forged],
      ['not a JWT', 'Bearer abc.def.ghi'],
    ];
    for (const [what, authorization] of cases) {
      const res = await post({ message: 'hello' }, authorization);
      expect({ what, status: res.status, body: res.json }).toEqual({
        what,
        status: 401,
        body: { message: 'Unauthorized' },
      });
      expect(res.origin).toBe(deployConstant(cloud.template, 'BroadcastAllowedOrigin'));
    }
    expect(broadcastRuns(from)).toBe(0);
  });

  it('answers an admin bad input with a clear 400 and broadcasts nothing', async () => {
    const admin = await bearer('root', [adminGroup()]);
    const started = cloud.executions().started;
    for (const body of [
      '{"message":',
      { message: '' },
      { message: 42 },
      { message: 'hi', roomId: 'no room!' },
    ]) {
      const res = await post(body, admin);
      expect({ status: res.status, code: res.json.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
      expect(res.json.message).toEqual(expect.any(String));
    }
    await testCloud.settle();
    expect(cloud.executions().started).toBe(started);
  });

  it('answers the preflight of the admin route with the one configured origin', async () => {
    const preflight = await fetch(`${cloud.httpUrl}/admin/broadcast`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(
      deployConstant(cloud.template, 'BroadcastAllowedOrigin'),
    );
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});

describe('AuthMode=none', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = (await startTestCloud()).cloud;
  });
  afterAll(async () => {
    await cloud?.close();
  });

  it('has no sign-in, so the admin route refuses every token (automation keeps POST /broadcast)', async () => {
    const res = await fetch(`${cloud.httpUrl}/admin/broadcast`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer a.b.c' },
      body: '{"message":"hi"}',
    });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 401,
      body: { message: 'Unauthorized' },
    });
  });
});
