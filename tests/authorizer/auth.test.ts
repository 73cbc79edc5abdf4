import { startLocalCloud } from '../../tools/local/cloud';
import { ChatClient, HandshakeRefused, isMessage, isPresence } from '../helpers/chatClient';
import { templatePath } from '../helpers/localCloud';
import { roomCloud } from '../helpers/roomCloud';
import { b64, hs256Token } from '../helpers/tokens';

/**
 * Who may connect, with the template's AuthMode=token: the local cloud runs the $connect authorizer before the
 * handshake, exactly as API Gateway does, with the secret from --auth-secret instead of Parameter Store.
 */
jest.setTimeout(240_000);

const SECRET = 'e2e-auth-secret-0123456789abcdef0123456789';
const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown>, secret = SECRET) => hs256Token(claims, secret);

const world = roomCloud({ parameters: { AuthMode: 'token' }, authSecret: SECRET }, { drain: true });

async function connectWith(query: string): Promise<ChatClient> {
  const client = await ChatClient.connect(`${world.cloud.wsUrl}?${query}`);
  world.keep(client);
  return client;
}

async function refusal(query: string): Promise<HandshakeRefused> {
  const error = await connectWith(query).then(
    () => new Error(`?${query} was let in`),
    (e: unknown) => e,
  );
  if (!(error instanceof HandshakeRefused)) throw error;
  return error;
}

describe('with AuthMode=token', () => {
  it.each([
    ['no token', () => 'username=mallory'],
    ['an empty token', () => 'token='],
    ['a malformed token', () => 'token=not.a.jwt'],
    ['an expired token', () => `token=${token({ sub: 'mallory', exp: now() - 3600 })}`],
    [
      'a token signed with another secret',
      () => `token=${token({ sub: 'mallory', exp: now() + 60 }, 'guessed')}`,
    ],
    [
      'an unsigned alg "none" token',
      () => `token=${b64({ alg: 'none' })}.${b64({ sub: 'mallory', exp: now() + 60 })}.`,
    ],
  ])('refuses a connection with %s: 401, and $connect never runs', async (_why, query) => {
    const from = world.test.invocations.length;
    const error = await refusal(query());
    expect(error.status).toBe(401);
    expect(JSON.parse(error.body)).toEqual({ message: 'Unauthorized' });
    expect(world.test.invocations.slice(from).map((i) => i.logicalId)).not.toContain('ConnectionFunction');
    expect(await world.storedConnections()).toBe(0);
  });

  it.each([
    ['too long', 'x'.repeat(40), 'must be 1-32 characters'],
    [
      'a right-to-left override ("alice" on screen)',
      '\u202Eecila',
      'text-direction characters (found U+202E)',
    ],
    ['a zero-width joiner', 'al\u200Dice', 'invisible'],
    ['a tag character', 'alice\u{E0041}', 'invisible'],
  ])(
    'refuses (400, with the reason) a genuine token whose name is %s, storing nothing',
    async (_why, name, reason) => {
      const error = await refusal(`token=${token({ sub: 's-1', username: name, exp: now() + 60 })}`);
      expect(error.status).toBe(400);
      expect(error.body).toContain(reason);
      expect(await world.storedConnections()).toBe(0);
    },
  );

  it('lets two users with valid tokens chat, named by their tokens and not by ?username=', async () => {
    const alice = await connectWith(`token=${token({ sub: 'alice', exp: now() + 300 })}&username=mallory`);
    const bob = await connectWith(`token=${token({ sub: 'b-42', username: 'bob', exp: now() + 300 })}`);
    expect(await world.storedConnections()).toBe(2);
    const roomId = (await alice.expectReply({ action: 'createroom' })).roomId as string;
    await bob.expectReply({ action: 'joinroom', roomId });
    await alice.next(isPresence(roomId, 'join', 'bob'));
    await alice.expectReply({ action: 'sendmessage', message: 'only the invited are here' });
    const message = await bob.next(isMessage(roomId, 'only the invited are here'));
    expect(message.username).toBe('alice');
  });
});

it('refuses to start with AuthMode=token but no secret, rather than fail every connection', async () => {
  const saved = process.env.AUTH_SECRET;
  delete process.env.AUTH_SECRET;
  try {
    await expect(
      startLocalCloud({
        templatePath,
        httpPort: 0,
        wsPort: 0,
        parameters: { AuthMode: 'token' },
        log: () => {},
      }),
    ).rejects.toThrow(/--auth-secret/);
  } finally {
    if (saved !== undefined) process.env.AUTH_SECRET = saved;
  }
});
