import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import { ChatClient, HandshakeRefused } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Who per-owner limits count for (docs/SECURITY.md, "Limits per source"): the signed-in user where there is sign-in,
 * so a script on a shared NAT address locks out no one else there; the source without sign-in, where a source's
 * handshakes and room creations are limited so what it can make the service store is bounded.
 *
 * Every client here comes from 127.0.0.1: one address, as people behind one NAT are.
 */
jest.setTimeout(120_000);

const now = () => Math.floor(Date.now() / 1000);

async function refusal(connecting: Promise<ChatClient>): Promise<{ status: number; body: string } | 'open'> {
  try {
    const client = await connecting;
    await client.close();
    return 'open';
  } catch (error) {
    if (error instanceof HandshakeRefused) return { status: error.status, body: error.body };
    throw error;
  }
}

describe('with sign-in (AuthMode=oidc): limits count per user, so no one on a NAT is locked out by one script', () => {
  let testCloud: TestCloud;
  let cloud: LocalCloud;
  let issuer: DevIssuer;
  const open: ChatClient[] = [];

  beforeAll(async () => {
    testCloud = await startTestCloud({
      parameters: { AuthMode: 'oidc' },
      settings: { JoinGuessLimit: 5, StrikeLimit: 1000, ConnectionsPerSource: 3, LobbyPolicy: 'open' },
    });
    cloud = testCloud.cloud;
    issuer = cloud.devIssuer as DevIssuer;
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    await cloud?.close();
  });

  async function as(sub: string): Promise<ChatClient> {
    const token = await issuer.sign({
      iss: issuer.issuer,
      aud: issuer.clientId,
      sub,
      preferred_username: sub,
      iat: now(),
      exp: now() + 600,
    });
    const client = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(token)}`);
    open.push(client);
    return client;
  }

  it('lets a user behind the address join by the typed code after another user there spent every guess', async () => {
    const alice = await as('alice');
    const room = await alice.ask({ action: 'createroom' });
    const code = String(room.roomId);
    const wrong = code.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const mallory = await as('mallory');
    const answers: string[] = [];
    for (let i = 0; i < 6; i++)
      answers.push(String((await mallory.ask({ action: 'joinroom', roomId: wrong })).code));
    expect(answers).toEqual([...Array(5).fill('ROOM_NOT_FOUND'), 'RATE_LIMITED']);
    // Mallory is out of guesses, the right code included (no oracle)...
    expect((await mallory.ask({ action: 'joinroom', roomId: code })).code).toBe('RATE_LIMITED');
    // ...but Bob, on the same address, types the code and is in.
    const bob = await as('bob');
    expect(await bob.ask({ action: 'joinroom', roomId: code })).toMatchObject({
      type: 'joined',
      roomId: code,
    });
  });

  it('lets others on the address connect while one user holds the most connections a user may', async () => {
    await as('hoarder');
    await as('hoarder');
    await as('hoarder');
    const fourth = await refusal(as('hoarder'));
    expect(fourth).toEqual({ status: 429, body: expect.stringContaining('Too many connections of yours') });
    await expect(as('carol')).resolves.toBeInstanceOf(ChatClient);
  });
});

describe('without sign-in: handshakes and room creations per source (ConnectRateLimit=4, RoomCreateLimit=2)', () => {
  let testCloud: TestCloud;
  let cloud: LocalCloud;

  beforeAll(async () => {
    testCloud = await startTestCloud({ settings: { ConnectRateLimit: 4, RoomCreateLimit: 2 } });
    cloud = testCloud.cloud;
  });

  afterAll(async () => {
    await cloud?.close();
  });

  it('refuses a source its handshakes past the bucket with 429 (no connection made), and its rooms past its bucket', async () => {
    const clients: ChatClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await ChatClient.connect(cloud.wsUrl, `c${i}`));
    // The fourth connection of the address creates rooms below.
    const creator = await ChatClient.connect(cloud.wsUrl, 'creator');
    const fifth = await refusal(ChatClient.connect(cloud.wsUrl, 'c5'));
    expect(fifth).toEqual({ status: 429, body: expect.stringContaining('Too many new connections') });
    expect(cloud.gateway.connectionCount()).toBe(4);

    // Room creations: two, then RATE_LIMITED with nothing created.
    expect((await creator.ask({ action: 'createroom' })).type).toBe('joined');
    expect((await creator.ask({ action: 'createroom' })).type).toBe('joined');
    const third = await creator.ask({ action: 'createroom' });
    expect(third).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(String(third.message)).toContain('You can create 2 rooms every hour');
    await Promise.all([...clients, creator].map((c) => c.close()));
  });
});
