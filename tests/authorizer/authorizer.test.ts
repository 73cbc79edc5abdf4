import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeJwt } from 'jose';
import { forgetVerifier, handler } from '#authorizer/index';
import { forgetAuthSecret } from '#core/identity/authSecret';
import { CLOCK_LEEWAY_SECONDS } from '#core/identity/identity';
import { readEvent } from '../helpers/events';
import { b64, hs256Token } from '../helpers/tokens';

/** The secret events/authorizer.json's token is signed with (valid until 2100, for that sample only). */
const SAMPLE_SECRET = 'roomcast-sample-secret-for-events-only';
const SECRET = 'unit-test-secret-0123456789abcdef0123456789';
const ssm = mockClient(SSMClient);
const now = () => Math.floor(Date.now() / 1000);

function withToken(token: string | undefined): APIGatewayRequestAuthorizerEvent {
  const event = readEvent<APIGatewayRequestAuthorizerEvent>('authorizer');
  return {
    ...event,
    queryStringParameters: token === undefined ? {} : { token },
    multiValueQueryStringParameters: token === undefined ? {} : { token: [token] },
  };
}

const tokenFor = (claims: Record<string, unknown>, secret = SECRET) => hs256Token(claims, secret);

beforeEach(() => {
  ssm.reset();
  forgetAuthSecret();
  forgetVerifier();
  process.env.AUTH_MODE = 'token';
  process.env.AUTH_SECRET = SECRET;
});

afterAll(() => {
  delete process.env.AUTH_SECRET;
});

describe('$connect authorizer', () => {
  it('allows the sample event and hands its username to $connect', async () => {
    process.env.AUTH_SECRET = SAMPLE_SECRET;
    const event = readEvent<APIGatewayRequestAuthorizerEvent>('authorizer');
    const result = await handler(event);
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn },
    ]);
    expect(result.context).toEqual({ username: 'alice', userId: expect.stringMatching(/^user:[\w-]{43}$/) });
    expect(result.principalId).toBe('alice');
  });

  it('takes the username from sub when the token has no username claim', async () => {
    const result = await handler(withToken(tokenFor({ sub: 'bob', exp: now() + 60 })));
    expect(result.context).toMatchObject({ username: 'bob' });
  });

  it('names the member by (iss, sub), never by its display name', async () => {
    const idOf = async (claims: Record<string, unknown>) =>
      (await handler(withToken(tokenFor({ exp: now() + 60, ...claims })))).context?.userId;
    const alice = await idOf({ sub: 's-1', username: 'alice' });
    // The same person under another name is the same member; another person with the same name is not.
    expect(await idOf({ sub: 's-1', username: 'Alice the 2nd' })).toBe(alice);
    expect(await idOf({ sub: 's-2', username: 'alice' })).not.toBe(alice);
    // The same sub from another issuer is someone else.
    expect(await idOf({ sub: 's-1', username: 'alice', iss: 'https://other.example' })).not.toBe(alice);
  });

  it('refuses a genuine token without sub: its display name never stands in for the id', async () => {
    // The user whose sub is u-123 owns rooms; a token naming itself u-123 without a sub must not become that user.
    await expect(handler(withToken(tokenFor({ username: 'u-123', exp: now() + 60 })))).rejects.toThrow(
      'Unauthorized',
    );
    await expect(
      handler(withToken(tokenFor({ sub: '', username: 'u-123', exp: now() + 60 }))),
    ).rejects.toThrow('Unauthorized');
    expect((await handler(withToken(tokenFor({ sub: 'u-123', exp: now() + 60 })))).context).toMatchObject({
      username: 'u-123',
    });
  });

  it('refuses a connection without a token as Unauthorized', async () => {
    await expect(handler(withToken(undefined))).rejects.toThrow('Unauthorized');
    await expect(handler(withToken(''))).rejects.toThrow('Unauthorized');
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['two parts', `${b64({ alg: 'HS256' })}.${b64({ sub: 'a', exp: 4102444800 })}`],
    ['four parts', 'a.b.c.d'],
    ['a header that is not JSON', `${Buffer.from('{oops').toString('base64url')}.${b64({})}.c2ln`],
    ['a payload that is an array', tokenFor({ exp: 1 }).replace(/^([^.]+)\.[^.]+/, `$1.${b64([1])}`)],
  ])('refuses a malformed token (%s) as Unauthorized', async (_why, token) => {
    await expect(handler(withToken(token))).rejects.toThrow('Unauthorized');
  });

  it('refuses an expired token, but tolerates clock skew within the leeway', async () => {
    const expired = tokenFor({ sub: 'alice', exp: now() - CLOCK_LEEWAY_SECONDS - 5 });
    await expect(handler(withToken(expired))).rejects.toThrow('Unauthorized');
    const justExpired = tokenFor({ sub: 'alice', exp: now() - 5 });
    expect((await handler(withToken(justExpired))).context).toMatchObject({ username: 'alice' });
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    const early = tokenFor({ sub: 'alice', exp: now() + 3600, nbf: now() + 600 });
    await expect(handler(withToken(early))).rejects.toThrow('Unauthorized');
  });

  it('refuses a token without exp: tokens never live forever', async () => {
    await expect(handler(withToken(tokenFor({ sub: 'alice' })))).rejects.toThrow('Unauthorized');
  });

  it('refuses a token signed with another secret, or whose claims were changed after signing', async () => {
    const foreign = tokenFor({ sub: 'alice', exp: now() + 60 }, 'someone-elses-secret');
    await expect(handler(withToken(foreign))).rejects.toThrow('Unauthorized');
    const [header, , signature] = tokenFor({ sub: 'alice', exp: now() + 60 }).split('.');
    const tampered = `${header}.${b64({ sub: 'admin', exp: now() + 60 })}.${signature}`;
    await expect(handler(withToken(tampered))).rejects.toThrow('Unauthorized');
  });

  it.each([
    ['none, unsigned', { alg: 'none', typ: 'JWT' }, ''],
    ['none, with a signature', { alg: 'none', typ: 'JWT' }, 'sig'],
    ['HS512', { alg: 'HS512', typ: 'JWT' }, 'HS256'],
    ['lower-case hs256', { alg: 'hs256', typ: 'JWT' }, 'HS256'],
    ['RS256', { alg: 'RS256', typ: 'JWT' }, 'HS256'],
    ['no alg', { typ: 'JWT' }, 'HS256'],
  ])('refuses the algorithm %s even with a correct HMAC', async (_why, header, signWith) => {
    const { createHmac } = await import('node:crypto');
    const input = `${b64(header)}.${b64({ sub: 'alice', exp: now() + 60 })}`;
    const signature =
      signWith === 'HS256' ? createHmac('sha256', SECRET).update(input).digest('base64url') : signWith;
    await expect(handler(withToken(`${input}.${signature}`))).rejects.toThrow('Unauthorized');
  });

  it.each([
    ['a control character', 'bad\u0007name', 'control characters'],
    ['a right-to-left override', '\u202Eecila', 'U+202E'],
    ['a zero-width space', 'a\u200Blice', 'U+200B'],
    ['a braille blank after it', 'alice\u2800', 'U+2800'],
    ['a braille blank before it', '\u2800alice', 'U+2800'],
    ['an interlinear annotation anchor', 'al\uFFF9ice', 'U+FFF9'],
    ["the numbering suffix a room gives ('alice (2)')", 'alice (2)', 'U+0028'],
  ])('hands $connect the reason to refuse a genuine token whose name has %s', async (_why, name, reason) => {
    const result = await handler(withToken(tokenFor({ sub: 's-9', username: name, exp: now() + 60 })));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(result.context?.username).toBeUndefined();
    expect(String(result.context?.usernameRefused)).toContain(reason);
  });

  it('hands $connect the name NFKC-normalised', async () => {
    const result = await handler(
      withToken(tokenFor({ sub: 's-8', username: ' ａｌｉｃｅ ', exp: now() + 60 })),
    );
    expect(result.context?.username).toBe('alice');
  });

  it('reads the secret from Parameter Store once, decrypted, and reuses it for the next connections', async () => {
    delete process.env.AUTH_SECRET;
    process.env.AUTH_SECRET_PARAMETER = '/roomcast/auth-secret';
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: SECRET } });
    const token = tokenFor({ sub: 'alice', exp: now() + 60 });
    expect((await handler(withToken(token))).context).toMatchObject({ username: 'alice' });
    expect((await handler(withToken(token))).context).toMatchObject({ username: 'alice' });
    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ Name: '/roomcast/auth-secret', WithDecryption: true });
  });

  it('fails (500, not Allow) when Parameter Store cannot be read, and tries again next time', async () => {
    delete process.env.AUTH_SECRET;
    process.env.AUTH_SECRET_PARAMETER = '/roomcast/auth-secret';
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(new Error('AccessDeniedException'))
      .resolves({
        Parameter: { Value: SECRET },
      });
    const token = tokenFor({ sub: 'alice', exp: now() + 60 });
    await expect(handler(withToken(token))).rejects.toThrow('AccessDeniedException');
    expect((await handler(withToken(token))).context).toMatchObject({ username: 'alice' });
  });
});

describe('npm run token', () => {
  it('mints a token the authorizer accepts, valid for --ttl seconds', async () => {
    const script = join(__dirname, '..', '..', 'scripts', 'mint-token.mjs');
    const token = execFileSync(
      process.execPath,
      [script, '--username', 'carol', '--secret', SECRET, '--ttl', '120'],
      {
        encoding: 'utf8',
      },
    ).trim();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ username: 'carol', sub: 'carol' });
    await expect(handler(withToken(token))).resolves.toMatchObject({ context: { username: 'carol' } });
    expect((claims.exp ?? 0) - now()).toBeGreaterThan(100);
    expect((claims.exp ?? 0) - now()).toBeLessThanOrEqual(120);
  });
});
