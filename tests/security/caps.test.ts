import WebSocket from 'ws';
import type { LocalCloud } from '../../tools/local/cloud';
import { type ChatClient, type Frame, isMessage, messagesIn } from '../helpers/chatClient';
import { lambdaClock, startTestCloud, type TestCloud } from '../helpers/localCloud';
import { roomCloud } from '../helpers/roomCloud';
import { agePlaces } from './places';

/**
 * The caps of docs/SECURITY.md against the local cloud, as clients meet them: live connections per source address
 * (429 at the handshake, and the places coming back after a close, or after a lost $disconnect), the lobby policy
 * (open, broadcasts, off), posts to an open lobby per source, and strikes that decay.
 *
 * Two source addresses on one machine: 127.0.0.1 and 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback).
 */
jest.setTimeout(240_000);

const OTHER_SOURCE = '127.0.0.2';

interface Raw {
  source: string;
  socket: WebSocket;
  frames: Frame[];
  closed: Promise<void>;
}

/** A plain socket from `localAddress`: open, or the status and body the handshake was refused with. */
function rawConnect(
  url: string,
  localAddress = '127.0.0.1',
): Promise<{ open: Raw } | { refused: { status: number; body: string } }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}?username=cap`, { localAddress, perMessageDeflate: false });
    const frames: Frame[] = [];
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Frame));
    socket.once('open', () => resolve({ open: { source: localAddress, socket, frames, closed } }));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ refused: { status: response.statusCode ?? 0, body } }));
    });
    socket.once('error', (error) => reject(error));
  });
}

async function opened(url: string, localAddress?: string): Promise<Raw> {
  const result = await rawConnect(url, localAddress);
  if (!('open' in result))
    throw new Error(`handshake refused: ${result.refused.status} ${result.refused.body}`);
  return result.open;
}

async function closeRaw(raw: Raw): Promise<void> {
  if (raw.socket.readyState !== WebSocket.CLOSED) raw.socket.close(1000, 'bye');
  await raw.closed;
}

/**
 * Waits until `check` holds, polling: the places come back with $disconnect, after the socket has closed. The
 * ceiling is generous, for a loaded machine, and only ends a failing wait.
 */
async function eventually(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('connections per source address (ConnectionsPerSource=3)', () => {
  let testCloud: TestCloud;
  let cloud: LocalCloud;
  const sockets: Raw[] = [];

  beforeAll(async () => {
    testCloud = await startTestCloud({
      settings: { ConnectionsPerSource: 3 },
    });
    cloud = testCloud.cloud;
  });

  afterAll(async () => {
    await Promise.all(sockets.map((s) => closeRaw(s).catch(() => undefined)));
    await testCloud?.settle();
    await cloud?.close();
  });

  const connectCount = () => testCloud.invocations.filter((i) => i.routeKey === '$connect').length;

  it('refuses the 4th live connection of one address with 429 at the handshake, while another address connects', async () => {
    for (let i = 0; i < 3; i++) sockets.push(await opened(cloud.wsUrl));
    const before = cloud.gateway.connectionCount();
    const fourth = await rawConnect(cloud.wsUrl);
    expect(fourth).toEqual({
      refused: { status: 429, body: expect.stringContaining('Too many connections from your network') },
    });
    // Nothing was stored for it: no fourth connection, and still three places.
    expect(cloud.gateway.connectionCount()).toBe(before);
    // Another address has places of its own.
    sockets.push(await opened(cloud.wsUrl, OTHER_SOURCE));
    expect(cloud.gateway.connectionCount()).toBe(before + 1);
    expect(connectCount()).toBe(5);
  });

  it('gives a place back when a connection closes', async () => {
    const first = sockets.shift() as Raw;
    await closeRaw(first);
    // $disconnect runs after the close; the next handshake of the address gets its place.
    await eventually(async () => {
      const attempt = await rawConnect(cloud.wsUrl);
      if ('open' in attempt) sockets.push(attempt.open);
      return 'open' in attempt;
    });
    await expect(rawConnect(cloud.wsUrl)).resolves.toMatchObject({ refused: { status: 429 } });
  });

  it('gives back the places of connections whose $disconnect was lost, once they are past their handshake', async () => {
    // Fresh places: close this address's connections (with $disconnect) and open three new ones.
    const all = sockets.splice(0);
    sockets.push(...all.filter((s) => s.source === OTHER_SOURCE));
    for (const s of all.filter((s) => s.source !== OTHER_SOURCE)) await closeRaw(s);
    const fresh: Raw[] = [];
    await eventually(async () => {
      const attempt = await rawConnect(cloud.wsUrl);
      if ('open' in attempt) fresh.push(attempt.open);
      return fresh.length === 3;
    });
    // API Gateway may never run $disconnect: close all three without it.
    cloud.gateway.setFaults({ faultSkipDisconnect: 1 });
    for (const s of fresh) await closeRaw(s);
    cloud.gateway.setFaults({ faultSkipDisconnect: 0 });
    // Only the other address's connections are still open.
    expect(cloud.gateway.connectionCount()).toBe(sockets.length);
    // Their places were claimed moments ago, when a handshake may still be under way: none is given away yet.
    await expect(rawConnect(cloud.wsUrl)).resolves.toMatchObject({ refused: { status: 429 } });
    // Past the 29 s a handshake can last, GetConnection answers 410 Gone for each, and their places come back.
    expect(await agePlaces(cloud, '127.0.0.1', 31_000)).toBe(3);
    for (let i = 0; i < 3; i++) sockets.push(await opened(cloud.wsUrl));
    await expect(rawConnect(cloud.wsUrl)).resolves.toMatchObject({ refused: { status: 429 } });
  });
});

/** Waits for a frame on a plain socket. */
async function rawNext(raw: Raw, predicate: (f: Frame) => boolean, timeoutMs = 90_000): Promise<Frame> {
  let found: Frame | undefined;
  await eventually(async () => {
    found = raw.frames.find(predicate);
    return found !== undefined;
  }, timeoutMs);
  return found as Frame;
}

/** The strike window: the functions' clock stands still (lambdaTestClock) and the test moves it on by a window. */
const STRIKE_WINDOW_MS = 60_000;

describe('an open lobby, with posts per source (LobbyPostLimit=3) and strikes that decay (StrikeLimit=3)', () => {
  const world = roomCloud(
    {
      settings: {
        LobbyPolicy: 'open',
        LobbyPostLimit: 3,
        LobbyPostWindowSeconds: 3600,
        StrikeLimit: 3,
        StrikeWindowSeconds: STRIKE_WINDOW_MS / 1000,
      },
      lambdaTestClock: true,
    },
    { closeClients: 'file', settle: true },
  );

  it('takes LobbyPostLimit posts from one address, all its connections together, then refuses them; another address still posts', async () => {
    const [alice, bob] = await Promise.all([world.connect('alice'), world.connect('bob')]);
    // The tutorial's two wscat clients: one posts in the lobby, the other reads it.
    await alice.expectReply({ action: 'sendmessage', message: 'hello, everyone!' });
    await bob.next(isMessage('lobby', 'hello, everyone!'));
    await bob.expectReply({ action: 'sendmessage', message: 'hi alice' });
    await alice.expectReply({ action: 'sendmessage', message: 'third' });
    const refused = await bob.ask({ action: 'sendmessage', message: 'fourth' });
    expect(refused).toMatchObject({ type: 'error', code: 'RATE_LIMITED', action: 'sendmessage' });
    expect(String(refused.message)).toContain('The lobby takes 3 messages every 3600 s from your network');
    // A refusal for the network's bucket is no strike: bob is not closed after more of them than StrikeLimit.
    for (let i = 0; i < 4; i++)
      expect(await bob.ask({ action: 'sendmessage', message: `again ${i}` })).toMatchObject({
        code: 'RATE_LIMITED',
      });
    expect(bob.isOpen).toBe(true);
    // Another address has a bucket of its own.
    const carol = await opened(world.cloud.wsUrl, OTHER_SOURCE);
    try {
      carol.socket.send(JSON.stringify({ action: 'sendmessage', message: 'from elsewhere' }));
      await rawNext(carol, (f) => f.type === 'ack');
      await alice.next(isMessage('lobby', 'from elsewhere'));
    } finally {
      await closeRaw(carol);
    }
    await world.test.settle();
    expect(alice.messages('lobby').map((m) => m.text)).not.toContain('fourth');
  });

  it('closes a connection for StrikeLimit strikes in one window, never for strikes spread over windows', async () => {
    const clock = lambdaClock(world.cloud);
    const [dave, erin] = await Promise.all([world.connect('dave'), world.connect('erin')]);
    const malformed = async (client: ChatClient) =>
      expect(await client.ask({ action: 'sendmessage' })).toMatchObject({ code: 'BAD_REQUEST' });
    // Windows are fixed spans of the functions' clock, which moves only here: every strike until it moves is in one
    // window, however slowly the machine answers. Dave makes two mistakes, then two more a window later: four
    // strikes in all, never three in one window.
    await malformed(dave);
    await malformed(dave);
    clock.advance(STRIKE_WINDOW_MS);
    await malformed(dave);
    await malformed(dave);
    await dave.expectReply({ action: 'who' });
    expect(dave.isOpen).toBe(true);
    // Erin makes her three in that later window: the third closes her connection. Its own answer may not arrive
    // before the close does.
    await malformed(erin);
    await malformed(erin);
    await erin.ask({ action: 'sendmessage' }).catch(() => undefined);
    // A ceiling for a loaded machine; the close itself ends the wait.
    await Promise.race([erin.closed, new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
    expect(erin.isOpen).toBe(false);
    expect(erin.frames).toContainEqual(
      expect.objectContaining({
        code: 'RATE_LIMITED',
        message: expect.stringContaining('this connection is closed'),
      }),
    );
    expect(dave.isOpen).toBe(true);
  });
});

describe('a lobby for announcements only (LobbyPolicy=broadcasts)', () => {
  const world = roomCloud(
    { settings: { LobbyPolicy: 'broadcasts' } },
    { closeClients: 'file', settle: true },
  );

  it("refuses a member's post in the lobby with a clear frame and delivers an admin broadcast there; rooms work", async () => {
    const [alice, bob] = await Promise.all([world.connect('alice'), world.connect('bob')]);
    const refused = await alice.ask({ action: 'sendmessage', message: 'Support Team: click here' });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'sendmessage' });
    expect(String(refused.message)).toContain('The lobby shows announcements only');
    // Nothing was stored or delivered.
    expect(await alice.expectReply({ action: 'history' })).toMatchObject({ roomId: 'lobby', messages: [] });
    const response = await fetch(`${world.cloud.httpUrl}/broadcast`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'maintenance at noon', roomId: 'lobby' }),
    });
    expect(response.status).toBe(202);
    await bob.next((f) => f.type === 'broadcast' && f.text === 'maintenance at noon');
    await world.test.settle();
    expect(bob.messages('lobby')).toEqual([]);
    // In a room, members talk as ever.
    const created = await alice.expectReply({ action: 'createroom' });
    await alice.expectReply({ action: 'sendmessage', message: 'in a room' });
    await alice.next(isMessage(String(created.roomId), 'in a room'));
  });
});

describe('no lobby (LobbyPolicy=off)', () => {
  const world = roomCloud({ settings: { LobbyPolicy: 'off' } }, { closeClients: 'file', settle: true });

  it('puts a new connection in no room: every route answers it clearly until it joins one', async () => {
    const [alice, bob] = await Promise.all([world.connect('alice'), world.connect('bob')]);
    const post = await alice.ask({ action: 'sendmessage', message: 'anyone?' });
    expect(post).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'sendmessage' });
    expect(String(post.message)).toContain('There is no lobby here');
    // Nobody to list and nothing to read where there is no room, though bob is in no room too.
    expect(await alice.expectReply({ action: 'who' })).toMatchObject({ members: [], memberCount: 0 });
    expect(await alice.expectReply({ action: 'history' })).toMatchObject({ messages: [] });
    expect(await alice.ask({ action: 'joinroom', roomId: 'lobby' })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
      message: expect.stringContaining('There is no lobby here'),
    });
    const broadcast = await fetch(`${world.cloud.httpUrl}/broadcast`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ message: 'to the lobby', roomId: 'lobby' }),
    });
    expect(broadcast.status).toBe(404);
    // A room works, and leaving it puts the member in no room again.
    const created = await alice.expectReply({ action: 'createroom' });
    await alice.expectReply({ action: 'sendmessage', message: 'in a room' });
    expect(await alice.expectReply({ action: 'leaveroom' })).toMatchObject({ roomId: created.roomId });
    expect(await alice.ask({ action: 'sendmessage', message: 'after leaving' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
    // None of these refusals is a strike: the connection is still open after more than StrikeLimit of them.
    for (let i = 0; i < 10; i++) await alice.ask({ action: 'sendmessage', message: `try ${i}` });
    expect(alice.isOpen).toBe(true);
    await world.test.settle();
    expect(bob.frames.flatMap(messagesIn)).toEqual([]);
  });
});
