import { createHash, randomBytes } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import type { DevIssuer } from '../../tools/local/oidc';
import { ChatClient, HandshakeRefused, isMessage } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { roomCloud } from '../helpers/roomCloud';
import { b64, hs256Token } from '../helpers/tokens';

/**
 * AuthMode=oidc and AuthMode=cognito against the local cloud's development issuer: the authorizer verifies with
 * aws-jwt-verify against the issuer's JWKS (fetched over HTTP from the issuer, as on AWS over HTTPS). Every bad
 * token is a 401 at the handshake: $connect never runs, nothing is stored, the client learns nothing but
 * "Unauthorized" and the reason is in the authorizer's log.
 */
jest.setTimeout(240_000);

const now = () => Math.floor(Date.now() / 1000);
// biome-ignore lint/suspicious/noExplicitAny: JSON documents of the issuer, checked by the assertions themselves
const json = async (response: Response | Promise<Response>): Promise<any> => (await response).json();

describe('AuthMode=oidc', () => {
  const world = roomCloud({ parameters: { AuthMode: 'oidc' } }, { drain: true });
  let issuer: DevIssuer;

  beforeAll(() => {
    issuer = world.cloud.devIssuer as DevIssuer;
  });

  async function connectWith(token: string | undefined): Promise<ChatClient> {
    const client = await ChatClient.connect(
      token === undefined
        ? `${world.cloud.wsUrl}?username=mallory`
        : `${world.cloud.wsUrl}?token=${encodeURIComponent(token)}`,
    );
    world.keep(client);
    return client;
  }

  /** Claims a good token of the dev issuer has. */
  const good = (extra: Record<string, unknown> = {}) => ({
    iss: issuer.issuer,
    aud: issuer.clientId,
    sub: 'sub-mallory',
    preferred_username: 'mallory',
    iat: now(),
    exp: now() + 600,
    ...extra,
  });

  it('the discovery document names the issuer, its JWKS and the PKCE endpoints', async () => {
    const doc = await json(fetch(`${issuer.discoveryBase}/.well-known/openid-configuration`));
    expect(doc).toMatchObject({
      issuer: issuer.issuer,
      code_challenge_methods_supported: ['S256'],
      jwks_uri: `${issuer.discoveryBase}/.well-known/jwks.json`,
    });
    const jwks = await json(fetch(doc.jwks_uri));
    expect(jwks.keys).toEqual([
      expect.objectContaining({ kty: 'RSA', alg: 'RS256', kid: issuer.publicJwk.kid }),
    ]);
    expect(JSON.stringify(jwks)).not.toMatch(/"d":/);
  });

  it('lets in a token from GET /dev-oidc/token?username=, named by it, and two such users chat', async () => {
    const tokens = async (name: string) =>
      (await json(fetch(`${issuer.issuer}/token?username=${name}`))).id_token as string;
    const alice = await connectWith(await tokens('alice'));
    const bob = await connectWith(await tokens('bob'));
    const roomId = (await alice.expectReply({ action: 'createroom' })).roomId as string;
    await bob.expectReply({ action: 'joinroom', roomId });
    await bob.expectReply({ action: 'sendmessage', message: 'signed in with OIDC' });
    expect((await alice.next(isMessage(roomId, 'signed in with OIDC'))).username).toBe('bob');
  });

  it('knows members by (iss, sub): two people who both call themselves "alice" are two members, one person in two tabs is one', async () => {
    const tokenOf = (sub: string) => issuer.sign(good({ sub, preferred_username: 'alice' }));
    const first = await connectWith(await tokenOf('sub-alice-1'));
    const other = await connectWith(await tokenOf('sub-alice-2'));
    const firstAgain = await connectWith(await tokenOf('sub-alice-1'));
    const roomId = (await first.expectReply({ action: 'createroom' })).roomId as string;
    expect((await other.expectReply({ action: 'joinroom', roomId })).members).toContain('alice (2)');
    const again = await firstAgain.expectReply({ action: 'joinroom', roomId });
    // Her two tabs are one member of the room: listed and counted once.
    expect(again.memberCount).toBe(2);
    expect([...(again.members as string[])].sort()).toEqual(['alice', 'alice (2)']);

    await other.expectReply({ action: 'sendmessage', message: 'not the first alice' });
    expect((await first.next(isMessage(roomId, 'not the first alice'))).username).toBe('alice (2)');

    const table = world.table('ConnectionsTable');
    const userIdOf = async (client: ChatClient) => {
      const { connectionId } = await client.expectReply({ action: 'help' });
      const { Item } = await world.db.send(
        new GetItemCommand({ TableName: table, Key: { connectionId: { S: String(connectionId) } } }),
      );
      return Item?.userId?.S;
    };
    const [a, b, c] = await Promise.all([first, other, firstAgain].map(userIdOf));
    expect(a).toMatch(/^user:[\w-]{43}$/);
    expect(c).toBe(a);
    expect(b).not.toBe(a);
  });

  it('signs in with the authorization code flow and PKCE, and refuses a wrong code_verifier', async () => {
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const doc = await json(fetch(`${issuer.discoveryBase}/.well-known/openid-configuration`));
    const redirectUri = `${world.cloud.httpUrl}/`;
    const authorize = new URL(doc.authorization_endpoint);
    for (const [k, v] of Object.entries({
      response_type: 'code',
      client_id: issuer.clientId,
      redirect_uri: redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'st-1',
      scope: 'openid',
    }))
      authorize.searchParams.set(k, v);
    // Without a name the endpoint shows its sign-in form; the form posts the name back with every parameter.
    const form = await fetch(authorize);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="code_challenge"');
    authorize.searchParams.set('username', 'carol');
    const redirect = await fetch(authorize, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const back = new URL(redirect.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(redirectUri);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code') ?? '';
    const exchange = (codeVerifier: string) =>
      fetch(doc.token_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: codeVerifier,
          client_id: issuer.clientId,
          redirect_uri: redirectUri,
        }),
      });
    const wrong = await exchange(randomBytes(32).toString('base64url'));
    expect(wrong.status).toBe(400);
    expect(await json(wrong)).toMatchObject({ error: 'invalid_grant' });
    // The failed exchange spent the code: a second try with the right verifier is refused too (codes are single-use).
    expect((await exchange(verifier)).status).toBe(400);

    authorize.searchParams.set('state', 'st-2');
    const again = new URL((await fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '');
    const ok = await fetch(doc.token_endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: again.searchParams.get('code') ?? '',
        code_verifier: verifier,
        client_id: issuer.clientId,
        redirect_uri: redirectUri,
      }),
    });
    expect(ok.status).toBe(200);
    const { id_token } = await json(ok);
    const carol = await connectWith(id_token);
    expect((await carol.expectReply({ action: 'help' })).username).toBe('carol');
  });

  const foreignKey = generateKeyPair('RS256');
  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ['no token', async () => undefined, /no token/],
    ['an expired token', () => issuer.sign(good({ exp: now() - 3600, iat: now() - 7200 })), /Token expired/],
    ['a token not valid yet', () => issuer.sign(good({ nbf: now() + 3600 })), /can't be used before/],
    ['a token for another audience', () => issuer.sign(good({ aud: 'another-app' })), /Audience not allowed/],
    [
      'a token of another issuer',
      () => issuer.sign(good({ iss: 'https://evil.example' })),
      /Issuer not allowed/,
    ],
    ['a token without exp', () => issuer.sign(good({ exp: undefined })), /no exp claim/],
    ['a token without sub', () => issuer.sign(good({ sub: undefined })), /no sub claim/],
    ['a token without iss', () => issuer.sign(good({ iss: undefined })), /iss/i],
    [
      'a key id the JWKS does not have',
      () => issuer.sign(good(), { kid: 'unknown-kid' }),
      /unknown-kid|wait/i,
    ],
    [
      "a token signed by another key under the issuer's kid",
      async () =>
        new SignJWT(good())
          .setProtectedHeader({ alg: 'RS256', kid: issuer.publicJwk.kid })
          .sign((await foreignKey).privateKey),
      /Invalid signature/,
    ],
    [
      "HS256 signed with the issuer's public key (algorithm confusion)",
      async () => {
        const pem = await exportSPKI(
          (await importJWK(issuer.publicJwk, 'RS256')) as Parameters<typeof exportSPKI>[0],
        );
        return hs256Token(good(), Buffer.from(pem), { alg: 'HS256', typ: 'JWT', kid: issuer.publicJwk.kid });
      },
      /algorithm not allowed: HS256/,
    ],
    [
      'alg none, unsigned',
      async () => `${b64({ alg: 'none', typ: 'JWT', kid: issuer.publicJwk.kid })}.${b64(good())}.`,
      /3 parts|algorithm/,
    ],
    [
      'alg none, with a signature',
      async () => `${b64({ alg: 'none', typ: 'JWT', kid: issuer.publicJwk.kid })}.${b64(good())}.c2ln`,
      /algorithm not allowed: none/,
    ],
    [
      'a payload changed after signing',
      async () => {
        const [header, , signature] = (await issuer.sign(good())).split('.');
        return `${header}.${b64(good({ preferred_username: 'admin' }))}.${signature}`;
      },
      /Invalid signature/,
    ],
    ['garbage', async () => 'not-a-jwt', /3 parts/],
  ];

  it.each(cases)(
    'refuses %s: 401 at the handshake, $connect never runs, nothing stored, the reason only in the log',
    async (_why, make, reason) => {
      const token = await make();
      const from = world.test.invocations.length;
      const logsFrom = world.test.logs.length;
      const error = await connectWith(token).then(
        () => new Error('the connection was let in'),
        (e: unknown) => e,
      );
      if (!(error instanceof HandshakeRefused)) throw error;
      expect(error.status).toBe(401);
      expect(JSON.parse(error.body)).toEqual({ message: 'Unauthorized' });
      expect(world.test.invocations.slice(from).map((i) => i.logicalId)).not.toContain('ConnectionFunction');
      expect(await world.storedConnections()).toBe(0);
      // No token at all: API Gateway refuses before the authorizer runs, so only the other cases have a log line.
      if (token !== undefined) {
        const refusals = world.test.logs.slice(logsFrom).filter((l) => l.includes('connection refused'));
        expect(refusals.join('\n')).toMatch(reason);
      }
    },
  );
});

describe('AuthMode=cognito', () => {
  let testCloud: TestCloud;
  let issuer: DevIssuer;

  beforeAll(async () => {
    testCloud = await startTestCloud({ parameters: { AuthMode: 'cognito' } });
    issuer = testCloud.cloud.devIssuer as DevIssuer;
  });

  afterAll(async () => {
    await testCloud?.cloud.close();
  });

  it("lets in the user pool's ID and access tokens, named by cognito:username / username", async () => {
    const { idToken, accessToken } = await issuer.mint('dora', { groups: ['admins'] });
    expect(issuer.issuer).toMatch(
      /^https:\/\/cognito-idp\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9-]+_roomcastLocal$/,
    );
    for (const token of [idToken, accessToken]) {
      const dora = await ChatClient.connect(`${testCloud.cloud.wsUrl}?token=${token}`);
      expect((await dora.expectReply({ action: 'help' })).username).toBe('dora');
      await dora.close();
    }
  });

  it('refuses a token of another app client and a token that claims the wrong use', async () => {
    const base = {
      iss: issuer.issuer,
      sub: 's',
      'cognito:username': 'eve',
      exp: now() + 600,
      iat: now(),
    };
    for (const claims of [
      { ...base, aud: 'another-client', token_use: 'id' },
      { ...base, aud: issuer.clientId, token_use: 'refresh' },
    ]) {
      const error = await ChatClient.connect(
        `${testCloud.cloud.wsUrl}?token=${await issuer.sign(claims)}`,
      ).then(
        () => new Error('let in'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(HandshakeRefused);
      expect((error as HandshakeRefused).status).toBe(401);
    }
  });
});
