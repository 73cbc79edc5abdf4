import { ChatClient, HandshakeRefused } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Who per-owner limits count for (docs/SECURITY.md, "Limits per source"): the signed-in user where there is sign-in,
 * so a script on a shared NAT address locks out no one else there; the source without sign-in, where a source's
 * handshakes and room creations are limited so what it can make the service store is bounded.
 *
 * Every client here comes from 127.0.0.1: one address, as people behind one NAT are.
 */
jest.setTimeout(240_000);

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
  const signedIn = signedInCloud({
    JoinGuessLimit: 5,
    StrikeLimit: 1000,
    ConnectionsPerSource: 3,
    LobbyPolicy: 'open',
  });
  const as = (name: string): Promise<ChatClient> => signedIn.device(name);

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
  const world = roomCloud({ settings: { ConnectRateLimit: 4, RoomCreateLimit: 2 } });

  it('refuses a source its handshakes past the bucket with 429 (no connection made), and its rooms past its bucket', async () => {
    const clients: ChatClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await ChatClient.connect(world.cloud.wsUrl, `c${i}`));
    // The fourth connection of the address creates rooms below.
    const creator = await ChatClient.connect(world.cloud.wsUrl, 'creator');
    const fifth = await refusal(ChatClient.connect(world.cloud.wsUrl, 'c5'));
    expect(fifth).toEqual({ status: 429, body: expect.stringContaining('Too many new connections') });
    expect(world.cloud.gateway.connectionCount()).toBe(4);

    // Room creations: two, then RATE_LIMITED with nothing created.
    expect((await creator.ask({ action: 'createroom' })).type).toBe('joined');
    expect((await creator.ask({ action: 'createroom' })).type).toBe('joined');
    const third = await creator.ask({ action: 'createroom' });
    expect(third).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(String(third.message)).toContain('You can create 2 rooms every hour');
    await Promise.all([...clients, creator].map((c) => c.close()));
  });
});
