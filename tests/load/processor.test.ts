import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { sharedSecretVerifier } from '#core/identity/identity';

/**
 * The artillery processor (tools/load/processor.js) as artillery drives it: its ws engine opens the socket, then
 * calls the flow's functions with the VU's context and an event emitter. A scripted server on 127.0.0.1 loses, copies
 * and refuses messages on purpose; the figures `npm run load` prints must say so.
 */
interface Processor {
  connectAs(wsArgs: { target: string }, context: Context, done: (error?: Error) => void): void;
  joinRoom(context: Context, events: EventEmitter): Promise<void>;
  sendChat(context: Context, events: EventEmitter): Promise<void>;
  drain(context: Context, events: EventEmitter): Promise<void>;
  leaveRoom(context: Context, events: EventEmitter): Promise<void>;
}
interface Context {
  vars: Record<string, unknown>;
  ws?: WebSocket;
}

let wss: WebSocketServer;
let url: string;
let processor: Processor;
/** How the scripted server answers a frame from a peer (and its ?username=); undefined sends nothing. */
let answer: (frame: Record<string, unknown>, peer: WebSocket, username: string) => object | undefined;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  answer = () => undefined;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((ok) => wss.once('listening', () => ok()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/prod`;
  wss.on('connection', (peer, request) => {
    const username = new URL(request.url ?? '/', 'http://server').searchParams.get('username') ?? '';
    peer.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      const reply = answer(frame, peer, username);
      if (reply !== undefined) peer.send(JSON.stringify({ ...reply, requestId: frame.requestId }));
    });
  });
  // Each test gets the module fresh, as each artillery worker does (its rooms and VU counter start empty).
  jest.isolateModules(() => {
    processor = require('../../tools/load/processor.js') as Processor;
  });
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  for (const peer of wss.clients) peer.terminate();
  await new Promise<void>((ok) => wss.close(() => ok()));
});

/** What artillery's report would hold: counters summed, histograms as samples. */
function recorder() {
  const events = new EventEmitter();
  const counters: Record<string, number> = {};
  const histograms: Record<string, number[]> = {};
  events.on('counter', (name: string, value: number) => {
    counters[name] = (counters[name] ?? 0) + value;
  });
  events.on('histogram', (name: string, value: number) => {
    histograms[name] = [...(histograms[name] ?? []), value];
  });
  return { events, counters, histograms };
}

/** A VU up to its first function step: connectAs, then the socket artillery's ws engine opens. */
async function virtualUser(vars: Record<string, unknown>): Promise<Context> {
  // A reply ends its wait when it comes (the bound is a hang detector); the drain waits its whole drainMs only for
  // what never comes, which the tests that stage a loss keep short.
  const context: Context = { vars: { drainMs: 300, replyTimeoutMs: 60_000, messageBytes: 100, ...vars } };
  const wsArgs = { target: url };
  await new Promise<void>((ok, fail) =>
    processor.connectAs(wsArgs, context, (error) => (error ? fail(error) : ok())),
  );
  const ws = new WebSocket(wsArgs.target);
  sockets.push(ws);
  await new Promise((ok) => ws.once('open', ok));
  context.ws = ws;
  return context;
}

/** The scripted server of room ABCDEF: createroom joins it, leaveroom leaves it, a send gets what `onSend` says. */
function oneRoom(
  onSend: (frame: Record<string, unknown>, peer: WebSocket, username: string) => object | undefined,
) {
  answer = (frame, peer, username) => {
    if (frame.action === 'createroom') {
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 0, members: [], inviteKey: 'k'.repeat(16) };
    }
    if (frame.action === 'leaveroom') return { type: 'left', roomId: 'ABCDEF' };
    return frame.action === 'sendmessage' ? onSend(frame, peer, username) : undefined;
  };
}

/** One VU's whole flow with one message (join, send, drain, leave): the counters it reported. */
async function oneMessage(vars: Record<string, unknown> = {}): Promise<Record<string, number>> {
  const { events, counters } = recorder();
  const vu = await virtualUser({ roomSize: 5, ...vars });
  await processor.joinRoom(vu, events);
  await processor.sendChat(vu, events);
  await processor.drain(vu, events);
  await processor.leaveRoom(vu, events);
  return counters;
}

const messageFrame = (seq: number, text: string, username: string) =>
  JSON.stringify({
    type: 'message',
    roomId: 'ABCDEF',
    seq,
    messageId: `m${seq}`,
    username,
    text,
    sentAt: new Date(0).toISOString(),
  });

test('the audit reports a lost seq, a duplicated one and a refused send; own messages are timed', async () => {
  let sends = 0;
  answer = (frame, peer, username) => {
    if (frame.action === 'createroom') {
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 0, members: [], inviteKey: 'k'.repeat(16) };
    }
    if (frame.action === 'leaveroom') return { type: 'left', roomId: 'ABCDEF' };
    if (frame.action !== 'sendmessage') return undefined;
    sends += 1;
    if (sends === 3) {
      return {
        type: 'error',
        code: 'RATE_LIMITED',
        message: 'slow down',
        action: 'sendmessage',
        clientMsgId: frame.clientMsgId,
      };
    }
    // Send 1 is stored as seq 1 and arrives twice; send 2 is stored as seq 3: seq 2 never arrives.
    const seq = sends === 1 ? 1 : 3;
    const text = messageFrame(seq, String(frame.message), username);
    peer.send(text);
    if (sends === 1) peer.send(text);
    return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq, messageId: `m${seq}` };
  };
  const { events, counters, histograms } = recorder();
  const vu = await virtualUser({ roomSize: 5 });
  await processor.joinRoom(vu, events);
  for (let i = 0; i < 3; i++) await processor.sendChat(vu, events);
  await processor.drain(vu, events);
  await processor.leaveRoom(vu, events);

  expect(counters).toMatchObject({
    'chat.rooms_created': 1,
    'chat.sent': 3,
    'chat.acked': 2,
    'chat.received_own': 2,
    'chat.received_others': 1, // the second copy of seq 1
    'chat.seq_missing': 1,
    'chat.duplicates': 1,
    'chat.own_missing': 1, // the refused one
    'chat.error.RATE_LIMITED': 1,
  });
  expect(histograms['chat.latency_ms']).toHaveLength(2);
  expect(histograms['chat.ack_ms']).toHaveLength(2);
  expect(histograms['chat.join_ms']).toHaveLength(1);
  expect(histograms['chat.leave_ms']).toHaveLength(1);
});

test('a seq still in flight when the drain starts is waited for, not counted missing', async () => {
  oneRoom((frame, peer, username) => {
    // Own message stored as seq 2 arrives at once; seq 1 (another member's, a slower fan-out) 150 ms later.
    peer.send(messageFrame(2, String(frame.message), username));
    setTimeout(() => peer.send(messageFrame(1, 'from a slower fan-out', 'someone')), 150);
    return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq: 2, messageId: 'm2' };
  });
  // The drain ends when seq 1 comes: its bound only has to outlast a loaded machine's timers, not race them.
  const counters = await oneMessage({ drainMs: 60_000 });
  expect(counters).toMatchObject({ 'chat.own_missing': 0, 'chat.seq_missing': 0, 'chat.duplicates': 0 });
});

test('a message of the room that arrives before the joined reply counts as received, not missing', async () => {
  answer = (frame, peer, username) => {
    if (frame.action === 'createroom') {
      // The fan-out found the member in the room before the join's reply went back.
      peer.send(messageFrame(1, 'posted before the reply', 'someone'));
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 0, members: [], inviteKey: 'k'.repeat(16) };
    }
    if (frame.action === 'leaveroom') return { type: 'left', roomId: 'ABCDEF' };
    if (frame.action !== 'sendmessage') return undefined;
    peer.send(messageFrame(2, String(frame.message), username));
    return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq: 2, messageId: 'm2' };
  };
  const counters = await oneMessage();
  expect(counters).toMatchObject({
    'chat.received_own': 1,
    'chat.seq_missing': 0,
    'chat.duplicates': 0,
  });
});

test('each message of a batch frame counts once, and batches that overlap show the copy', async () => {
  oneRoom((frame, peer, username) => {
    const [one, two, three] = [
      messageFrame(1, 'first', 'someone'),
      messageFrame(2, 'second', 'someone'),
      messageFrame(3, String(frame.message), username),
    ].map((text) => JSON.parse(text) as object);
    peer.send(JSON.stringify({ type: 'batch', roomId: 'ABCDEF', messages: [one, two] }));
    peer.send(JSON.stringify({ type: 'batch', roomId: 'ABCDEF', messages: [two, three] }));
    return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq: 3, messageId: 'm3' };
  });
  const counters = await oneMessage();
  expect(counters).toMatchObject({
    'chat.received_own': 1,
    'chat.own_missing': 0,
    'chat.seq_missing': 0,
    'chat.duplicates': 1,
  });
});

test('a resync frame is counted, and the seq it stands for still counts missing (the lean client reads no history)', async () => {
  oneRoom((frame, peer, username) => {
    // The fan-out gave up posting seq 1 to this member and says so; seq 2, the VU's own, arrives.
    peer.send(JSON.stringify({ type: 'resync', roomId: 'ABCDEF', afterSeq: 0 }));
    peer.send(messageFrame(2, String(frame.message), username));
    return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq: 2, messageId: 'm2' };
  });
  const counters = await oneMessage();
  expect(counters).toMatchObject({ 'chat.resyncs': 1, 'chat.seq_missing': 1, 'chat.received_own': 1 });
});

test("the next VU of a group joins the first one's room with its invite key; a refused join fails the VU", async () => {
  const keys: unknown[] = [];
  answer = (frame) => {
    if (frame.action === 'createroom') {
      return { type: 'joined', roomId: 'ABCDEF', lastSeq: 4, members: [], inviteKey: 'k'.repeat(16) };
    }
    if (frame.action === 'joinroom') {
      keys.push(frame.key);
      if (keys.length === 2) {
        return { type: 'error', code: 'ROOM_NOT_FOUND', message: 'gone', action: 'joinroom' };
      }
      return { type: 'joined', roomId: frame.roomId, lastSeq: 4, members: [] };
    }
    return undefined;
  };
  const { events, counters } = recorder();
  const first = await virtualUser({ roomSize: 3 });
  await processor.joinRoom(first, events);
  const second = await virtualUser({ roomSize: 3 });
  await processor.joinRoom(second, events);
  expect(second.vars.roomId).toBe('ABCDEF');
  const third = await virtualUser({ roomSize: 3 });
  await expect(processor.joinRoom(third, events)).rejects.toThrow(/joinroom: ROOM_NOT_FOUND/);
  expect(keys).toEqual(['k'.repeat(16), 'k'.repeat(16)]);
  expect(counters).toMatchObject({ 'chat.rooms_created': 1, 'chat.error.ROOM_NOT_FOUND': 1 });
  // Nothing sent since joining at seq 4: nothing owed, nothing missing.
  await processor.drain(second, events);
  expect(counters['chat.seq_missing']).toBe(0);
});

describe('tokens for stacks that require sign-in', () => {
  const connectUrl = async () => {
    const context: Context = { vars: {} };
    const wsArgs = { target: url };
    await new Promise<void>((ok, fail) =>
      processor.connectAs(wsArgs, context, (error) => (error ? fail(error) : ok())),
    );
    return { url: new URL(wsArgs.target), username: String(context.vars.username) };
  };

  afterEach(() => {
    delete process.env.ROOMCAST_TOKEN_SECRET;
    delete process.env.ROOMCAST_TOKEN_COMMAND;
  });

  test('connects without a token when none is configured', async () => {
    expect((await connectUrl()).url.searchParams.has('token')).toBe(false);
  });

  test('mints an AuthMode=token token the authorizer accepts, for the VU name', async () => {
    process.env.ROOMCAST_TOKEN_SECRET = 'load-test-secret-of-enough-length';
    const { url: withToken, username } = await connectUrl();
    // The $connect authorizer's own check for AuthMode=token.
    const verify = sharedSecretVerifier(async () => 'load-test-secret-of-enough-length');
    const identity = await verify(withToken.searchParams.get('token') ?? '');
    expect(identity).toMatchObject({ username });
  });

  test('takes any AuthMode token from ROOMCAST_TOKEN_COMMAND, run per VU with its name', async () => {
    process.env.ROOMCAST_TOKEN_COMMAND = 'printf "tok-%s" "$ROOMCAST_USERNAME"';
    const { url: withToken, username } = await connectUrl();
    expect(withToken.searchParams.get('token')).toBe(`tok-${username}`);
    process.env.ROOMCAST_TOKEN_COMMAND = 'true';
    await expect(connectUrl()).rejects.toThrow(/printed no token/);
  });
});
