import WebSocket from 'ws';
import type { LocalCloud } from '../../local/cloud';
import { ChatClient, type Frame, isError, isMessage } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The caps of docs/SECURITY.md against the local cloud, as clients meet them: live connections per source address
 * (429 at the handshake, and the places coming back after a close, or after a lost $disconnect), the lobby policy
 * (open, broadcasts, off), posts to an open lobby per source, and strikes that decay.
 *
 * Two source addresses on one machine: 127.0.0.1 and 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback).
 */
jest.setTimeout(120_000);

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

/** Waits until `check` holds, polling: the places come back with $disconnect, after the socket has closed. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
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
    testCloud = await startTestCloud({ parameters: { ConnectionsPerSource: '3' } });
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
    // Only the other address's connection is still open.
    expect(cloud.gateway.connectionCount()).toBe(1);
    // Their places were claimed moments ago, when a handshake may still be under way: none is given away yet.
    await expect(rawConnect(cloud.wsUrl)).resolves.toMatchObject({ refused: { status: 429 } });
    // Past the 29 s a handshake can last, GetConnection answers 410 Gone for each, and their places come back.
    await new Promise((resolve) => setTimeout(resolve, 31_000));
    for (let i = 0; i < 3; i++) sockets.push(await opened(cloud.wsUrl));
    await expect(rawConnect(cloud.wsUrl)).resolves.toMatchObject({ refused: { status: 429 } });
  });
});
