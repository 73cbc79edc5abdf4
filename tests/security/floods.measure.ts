import WebSocket from 'ws';
import type { DevIssuer } from '../../tools/local/oidc';
import { startTestCloud } from '../helpers/localCloud';
import { agePlaces } from './places';

/**
 * Measurement, not a test (npx jest --testMatch '**\/tests/security/floods.measure.ts' --maxWorkers=1): what a
 * refusal costs the local cloud, with ConnectionsPerSource=50 and the template's other limits. Prints one
 * `[figures]` line:
 * - GetConnection calls per refused handshake, at a source's cap with its places older than a handshake;
 * - a burst flooder (one connection writing `{"action":"sendmessage"}` 2,000 times in a tight loop): invocations of
 *   SendMessage it gets, GetConnection/DeleteConnection calls it causes, when its socket closes, and another user's
 *   ack p50/p95 meanwhile (baseline before it);
 * - typed right-code joins admitted from an address after 50 wrong guesses from it.
 * Every client is on 127.0.0.x; the traffic is bounded (one burst, 60 guesses, 50 handshakes).
 */
jest.setTimeout(300_000);

interface Raw {
  socket: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<number>;
}

function connect(url: string, localAddress: string, name: string): Promise<Raw | { refused: number }> {
  return new Promise((resolve, reject) => {
    const target = url.includes('?') ? url : `${url}?username=${name}`;
    const socket = new WebSocket(target, { localAddress, perMessageDeflate: false });
    const frames: Record<string, unknown>[] = [];
    const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
    socket.on('message', (data) => {
      try {
        frames.push(JSON.parse(String(data)));
      } catch {
        frames.push({ raw: String(data) });
      }
    });
    socket.once('open', () => resolve({ socket, frames, closed }));
    socket.once('unexpected-response', (_q, response) => {
      response.resume();
      resolve({ refused: response.statusCode ?? 0 });
    });
    socket.once('error', reject);
  });
}

async function opened(url: string, localAddress: string, name: string): Promise<Raw> {
  const r = await connect(url, localAddress, name);
  if ('refused' in r) throw new Error(`refused ${r.refused}`);
  return r;
}

/** Sends a frame with a requestId and waits for the frame echoing it. */
async function ask(raw: Raw, frame: Record<string, unknown>, timeoutMs = 30_000) {
  const requestId = `r${Math.random().toString(36).slice(2, 10)}`;
  raw.socket.send(JSON.stringify({ ...frame, requestId }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = raw.frames.find((f) => f.requestId === requestId);
    if (found) return found;
    if (Date.now() > deadline || raw.socket.readyState !== WebSocket.OPEN) return undefined;
    await new Promise((r) => setTimeout(r, 2));
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

it('measures what refusals cost', async () => {
  const testCloud = await startTestCloud({ settings: { ConnectionsPerSource: '50', LobbyPolicy: 'open' } });
  const { cloud } = testCloud;
  const url = cloud.wsUrl;
  const figures: Record<string, unknown> = {};
  const sockets: Raw[] = [];
  try {
    // 1. Refused handshakes at the cap, the places past a handshake's 29 s.
    for (let i = 0; i < 50; i++) sockets.push(await opened(url, '127.0.0.3', `cap${i}`));
    await agePlaces(cloud, '127.0.0.3', 31_000);
    const probesBefore = cloud.gateway.stats().probes;
    let refused = 0;
    for (let i = 0; i < 50; i++) {
      const r = await connect(url, '127.0.0.3', 'over');
      if ('refused' in r) refused++;
      else sockets.push(r);
    }
    figures.refusedHandshakes = {
      refused,
      getConnectionCalls: cloud.gateway.stats().probes - probesBefore,
      perRefusal: (cloud.gateway.stats().probes - probesBefore) / Math.max(1, refused),
    };

    // 2. A burst flooder, and another user's acks meanwhile.
    const bob = await opened(url, '127.0.0.5', 'bob');
    const room = (await ask(bob, { action: 'createroom' })) as { roomId?: string } | undefined;
    // Bob sends every 600 ms without waiting for the previous ack (within his 10 per 10 s), so a slow ack does
    // not thin out the samples taken while the flood is on.
    const acks: { at: number; ms: number; ok: boolean }[] = [];
    const pending: Promise<void>[] = [];
    let sending = true;
    const bobLoop = (async () => {
      while (sending) {
        const at = Date.now();
        pending.push(
          ask(bob, { action: 'sendmessage', roomId: room?.roomId, message: 'hi' }).then((reply) => {
            acks.push({ at, ms: Date.now() - at, ok: reply?.type === 'ack' });
          }),
        );
        await new Promise((r) => setTimeout(r, 600));
      }
      await Promise.all(pending);
    })();
    await new Promise((r) => setTimeout(r, 3000));
    const flooder = await opened(url, '127.0.0.4', 'flood');
    const before = {
      invocations: testCloud.invocations.length,
      stats: cloud.gateway.stats(),
    };
    const floodStart = Date.now();
    for (let i = 0; i < 2000; i++) flooder.socket.send('{"action":"sendmessage"}');
    const closeCode = await Promise.race([flooder.closed, new Promise((r) => setTimeout(r, 30_000, 'open'))]);
    const closedAfterMs = Date.now() - floodStart;
    await new Promise((r) => setTimeout(r, Math.max(0, 12_000 - closedAfterMs)));
    sending = false;
    await bobLoop;
    await testCloud.settle();
    const during = acks.filter((a) => a.at >= floodStart);
    const baseline = acks.filter((a) => a.at < floodStart);
    const after = cloud.gateway.stats();
    const sendInvocations = testCloud.invocations
      .slice(before.invocations)
      .filter((i) => i.routeKey === 'sendmessage').length;
    figures.burst = {
      frames: 2000,
      closeCode,
      closedAfterMs,
      sendMessageInvocations: sendInvocations - during.length,
      getConnectionCalls: after.probes - before.stats.probes,
      deleteConnectionCalls: after.deletes - before.stats.deletes,
      errorFramesToFlooder: flooder.frames.length,
      gatewayTooManyRequests: flooder.frames.filter((f) => f.message === 'Too Many Requests').length,
      bobBaseline: {
        n: baseline.length,
        p50: percentile(
          baseline.map((a) => a.ms),
          50,
        ),
      },
      bobDuring: {
        n: during.length,
        p50: percentile(
          during.map((a) => a.ms),
          50,
        ),
        p95: percentile(
          during.map((a) => a.ms),
          95,
        ),
        max: Math.max(...during.map((a) => a.ms)),
        failed: during.filter((a) => !a.ok).length,
      },
    };

    // 3. 50 wrong guesses from one address, then people behind it type the right code.
    const code = room?.roomId as string;
    let wrong = 0;
    let guesser: Raw | undefined;
    while (wrong < 50) {
      if (!guesser || guesser.socket.readyState !== WebSocket.OPEN) {
        guesser = await opened(url, '127.0.0.6', 'guesser');
        sockets.push(guesser);
      }
      const reply = await ask(
        guesser,
        { action: 'joinroom', roomId: code.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) },
        5000,
      );
      if (reply) wrong++;
    }
    let admitted = 0;
    const answers: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      const person = await opened(url, '127.0.0.6', `person${i}`);
      sockets.push(person);
      const reply = await ask(person, { action: 'joinroom', roomId: code });
      const key = String(reply?.type === 'error' ? reply.code : reply?.type);
      answers[key] = (answers[key] ?? 0) + 1;
      if (reply?.type !== 'error' && reply !== undefined) admitted++;
    }
    figures.rightCodeAfterWrongGuesses = { wrongGuesses: wrong, rightCodeJoins: 10, admitted, answers };
    bob.socket.close();
  } finally {
    for (const s of sockets) s.socket.terminate();
    await testCloud.settle().catch(() => undefined);
    await cloud.close();
  }
  figures.rightCodeAfterWrongGuessesSignedIn = await signedInGuessing();
  process.stdout.write(`[figures] ${JSON.stringify(figures)}\n`);
});

/** The same with sign-in (AuthMode=oidc): one user guesses 50 times, ten other users on the address type the code. */
async function signedInGuessing() {
  const testCloud = await startTestCloud({ parameters: { AuthMode: 'oidc' } });
  const { cloud } = testCloud;
  const issuer = cloud.devIssuer as DevIssuer;
  const sockets: Raw[] = [];
  const as = async (sub: string) => {
    const t = Math.floor(Date.now() / 1000);
    const token = await issuer.sign({ iss: issuer.issuer, aud: issuer.clientId, sub, iat: t, exp: t + 600 });
    const raw = await opened(`${cloud.wsUrl}?token=${encodeURIComponent(token)}`, '127.0.0.6', 'x');
    sockets.push(raw);
    return raw;
  };
  try {
    const owner = await as('owner');
    const code = String(((await ask(owner, { action: 'createroom' })) as { roomId?: string }).roomId);
    let wrong = 0;
    let guesser: Raw | undefined;
    while (wrong < 50) {
      if (!guesser || guesser.socket.readyState !== WebSocket.OPEN) guesser = await as('mallory');
      const reply = await ask(
        guesser,
        { action: 'joinroom', roomId: code.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) },
        5000,
      );
      if (reply) wrong++;
    }
    let admitted = 0;
    const answers: Record<string, number> = {};
    for (let i = 0; i < 10; i++) {
      const reply = await ask(await as(`person${i}`), { action: 'joinroom', roomId: code });
      const key = String(reply?.type === 'error' ? reply.code : reply?.type);
      answers[key] = (answers[key] ?? 0) + 1;
      if (reply?.type === 'joined') admitted++;
    }
    return { wrongGuesses: wrong, rightCodeJoins: 10, admitted, answers };
  } finally {
    for (const s of sockets) s.socket.terminate();
    await cloud.close();
  }
}
