import type { Closed, ReceivedFrame, RoomcastClientOptions } from '../../client';
import { RoomcastError } from '../../client';
import type { FakeSocket } from '../helpers/fakeRoomcastServer';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * The client library's wire-level seam (docs/CLIENT.md, "Below the protocol"), on which protocol tests and tools
 * stand: every frame as received, frames sent as they are, closing with a code or at once, the close reported, and
 * a refused handshake's HTTP answer where the WebSocket class hands it over (`ws`; browsers do not).
 */
const fake = fakeServerPerTest();

/** A lean client (nothing of its own on the wire) on a socket like `ws`'s unless `WebSocket` says otherwise. */
async function wire(options: Partial<RoomcastClientOptions> = {}) {
  const chat = fake.client({
    username: undefined,
    WebSocket: fake.server.WsWebSocket,
    lean: true,
    ...options,
  });
  const frames: ReceivedFrame[] = [];
  const closes: Closed[] = [];
  chat.on('frame', (f) => frames.push(f));
  chat.on('close', (c) => closes.push(c));
  await tick();
  return { chat, frames, closes, socket: fake.server.last as FakeSocket };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('every frame as received', () => {
  it('reports each frame, JSON or not, with the parsed object when it is one, before the client acts on it', async () => {
    const { chat, frames } = await wire();
    const order: string[] = [];
    chat.on('frame', (f) => order.push(`frame ${f.frame?.type ?? f.raw}`));
    chat.on('message', (m) => order.push(`message ${m.seq}`));
    fake.server.last.push('not json');
    fake.server.last.push('[1,2]');
    fake.server.last.push({ type: 'surprise' });
    fake.server.store('lobby', 'hello');
    await tick();
    expect(frames.map((f) => f.raw)).toEqual([
      'not json',
      '[1,2]',
      '{"type":"surprise"}',
      expect.stringContaining('"text":"hello"'),
    ]);
    expect(frames.map((f) => f.frame?.type)).toEqual([undefined, undefined, 'surprise', 'message']);
    expect(order.slice(-2)).toEqual(['frame message', 'message 1']);
  });
});

describe('sendRaw', () => {
  it('sends the text exactly as given, even what the client itself would refuse, and adds nothing', async () => {
    const { chat, frames } = await wire();
    const huge = JSON.stringify({ action: 'sendmessage', message: 'x'.repeat(6000), clientMsgId: 'mine' });
    chat.sendRaw(huge);
    chat.sendRaw('{"action":"who","requestId":"chosen-by-the-test"}');
    chat.sendRaw('not json at all');
    await tick();
    expect(fake.server.received.map((f) => f.clientMsgId ?? f.requestId ?? f.raw)).toEqual([
      'mine',
      'chosen-by-the-test',
      'not json at all',
    ]);
    expect(fake.server.frameBytes[0]).toBe(Buffer.byteLength(huge));
    // The answers arrive as frames (the message fanned out to its sender too); the `who` reply names the test's id.
    expect(frames.map((f) => f.frame?.type)).toEqual(['message', 'ack', 'members', 'error']);
    expect(frames[2]?.frame?.requestId).toBe('chosen-by-the-test');
  });

  it('refuses with DISCONNECTED when the socket is not open, and sends nothing', async () => {
    const { chat } = await wire();
    fake.server.last.drop();
    await tick();
    const error = thrown(() => chat.sendRaw('{"action":"who"}'));
    expect(error).toBeInstanceOf(RoomcastError);
    expect((error as RoomcastError).code).toBe('DISCONNECTED');
    expect(fake.server.received).toEqual([]);
  });

  it('sends a longer text as one message in frames of at most maxFrameBytes, split inside characters too', async () => {
    const { chat } = await wire();
    const text = JSON.stringify({ action: 'sendmessage', message: 'é€😀'.repeat(20), clientMsgId: 'parts' });
    chat.sendRaw(text, { maxFrameBytes: 32 });
    const bytes = Buffer.byteLength(text);
    expect(fake.server.frameBytes).toHaveLength(Math.ceil(bytes / 32));
    expect(Math.max(...fake.server.frameBytes)).toBeLessThanOrEqual(32);
    expect(fake.server.received).toEqual([
      expect.objectContaining({ message: 'é€😀'.repeat(20), clientMsgId: 'parts' }),
    ]);
    // A text that fits goes in one frame.
    chat.sendRaw('{"action":"who"}', { maxFrameBytes: 32 });
    expect(fake.server.frameBytes.at(-1)).toBe(16);
  });

  it('refuses a split it cannot make: a browser-like WebSocket, or a frame size that is not a positive integer', async () => {
    const browserLike = await wire({ WebSocket: fake.server.WebSocket });
    const long = JSON.stringify({ action: 'who', pad: 'x'.repeat(100) });
    const cannot = thrown(() => browserLike.chat.sendRaw(long, { maxFrameBytes: 32 }));
    expect((cannot as RoomcastError).code).toBe('INVALID_ARGUMENT');
    expect((cannot as RoomcastError).message).toMatch(/cannot send a message in several frames/);
    const ws = await wire();
    for (const maxFrameBytes of [0, -1, 1.5, Number.NaN]) {
      expect((thrown(() => ws.chat.sendRaw(long, { maxFrameBytes })) as RoomcastError).code).toBe(
        'INVALID_ARGUMENT',
      );
    }
    expect(fake.server.received).toEqual([]);
  });
});

describe('closing', () => {
  /** The socket ended as `ended` says, the app was told of that close once, and the client is closed. */
  function expectEnded(
    { chat, closes, socket }: Omit<Awaited<ReturnType<typeof wire>>, 'frames'>,
    ended: NonNullable<FakeSocket['ended']>,
  ) {
    expect(socket.ended).toEqual(ended);
    expect(closes).toEqual([{ code: ended.code, reason: ended.reason }]);
    expect(chat.state).toBe('closed');
  }

  it('close(code, reason) ends the connection with them and reports the close', async () => {
    const { chat, closes, socket } = await wire();
    expect(chat.connected).toBe(true);
    chat.close(4001, 'done for today');
    expect(chat.connected).toBe(false);
    await tick();
    expectEnded({ chat, closes, socket }, { code: 4001, reason: 'done for today', by: 'client' });
  });

  it('refuses a close code or reason a WebSocket would refuse, before closing anything', async () => {
    const { chat, closes } = await wire();
    for (const [code, reason] of [
      [1001, 'bye'],
      [2999, 'bye'],
      [5000, 'bye'],
      [3000.5, 'bye'],
      [4000, 'x'.repeat(124)],
    ] as const) {
      const error = thrown(() => chat.close(code, reason)) as RoomcastError;
      expect(error.code).toBe('INVALID_ARGUMENT');
    }
    await tick();
    expect(chat.connected).toBe(true);
    expect(closes).toEqual([]);
    chat.close(3000, 'x'.repeat(123));
    await tick();
    expect(closes).toEqual([{ code: 3000, reason: 'x'.repeat(123) }]);
  });

  it('reports a close by the server with its code and reason', async () => {
    const { chat, closes } = await wire();
    fake.server.last.drop(1009, 'Message too big');
    await tick();
    expect(closes).toEqual([{ code: 1009, reason: 'Message too big' }]);
    expect(chat.connected).toBe(false);
  });

  it('terminate() drops the connection without a closing handshake where the WebSocket can (1006)', async () => {
    const { chat, closes, socket } = await wire();
    chat.terminate();
    await tick();
    expectEnded({ chat, closes, socket }, { code: 1006, reason: '', by: 'terminate' });
  });

  it('terminate() cuts short a close whose handshake is still under way', async () => {
    const { chat, socket } = await wire();
    socket.close = () => undefined; // a peer that never answers the close: the handshake hangs
    chat.close();
    await tick(1000);
    expect(socket.ended).toBeUndefined();
    chat.terminate();
    await tick();
    expect(socket.ended?.by).toBe('terminate');
  });

  it('terminate() on a browser-like WebSocket closes normally instead', async () => {
    const { chat, socket } = await wire({ WebSocket: fake.server.WebSocket });
    chat.terminate();
    await tick();
    expect(socket.ended).toEqual({ code: 1000, reason: 'bye', by: 'client' });
  });
});

describe('a refused handshake', () => {
  it('with ws: HANDSHAKE_REFUSED carries the HTTP status and body, and the attempt is closed', async () => {
    fake.server.accept = false;
    fake.server.refuseStatus = 401;
    fake.server.refuseBody = '{"message":"Unauthorized"}';
    const chat = fake.client({ username: undefined, WebSocket: fake.server.WsWebSocket, lean: true });
    const ready = chat.ready().catch((error: unknown) => error);
    await tick();
    const error = (await ready) as RoomcastError;
    expect(error.code).toBe('HANDSHAKE_REFUSED');
    expect(error.details).toMatchObject({ status: 401, body: '{"message":"Unauthorized"}' });
    expect(error.message).toContain('HTTP 401: {"message":"Unauthorized"}');
    expect(fake.server.last.ended?.code).toBe(1006); // ws leaves it open to the listener; the client ends it
    expect(chat.state).toBe('failed');
  });

  it('keeps the first 4,096 characters of a long body, decoded across chunks', async () => {
    fake.server.accept = false;
    fake.server.refuseStatus = 400;
    fake.server.refuseBody = 'é'.repeat(5000); // 10,000 bytes: chunks of 1,000 bytes never split an é, 999 would
    const chat = fake.client({ username: undefined, WebSocket: fake.server.WsWebSocket, lean: true });
    const ready = chat.ready().catch((error: unknown) => error);
    await tick();
    const body = ((await ready) as RoomcastError).details.body;
    expect(body).toBe('é'.repeat(4096));
  });

  it('with a browser-like WebSocket: the status when its error names one, and no body', async () => {
    fake.server.accept = false;
    fake.server.refuseStatus = 403;
    const chat = fake.client({ username: undefined, WebSocket: fake.server.WebSocket, lean: true });
    const ready = chat.ready().catch((error: unknown) => error);
    await tick();
    const error = (await ready) as RoomcastError;
    expect(error.code).toBe('HANDSHAKE_REFUSED');
    expect(error.details).toEqual({ status: 403 });
  });
});

describe('the URL', () => {
  it('is used byte for byte when the client adds no username or token to it, the resume token after it', async () => {
    const url = "ws://fake/prod?username=o'brien%20x"; // the URL parser would write the ' as %27
    await wire({ url, resumeToken: 'r'.repeat(22) });
    expect(fake.server.last.url).toBe(`${url}&resume=${'r'.repeat(22)}`);
  });
});

describe('lean mode puts nothing of its own on the wire', () => {
  it('after connecting and an hour of quiet, the server has received only what sendRaw sent', async () => {
    const { chat } = await wire();
    await jest.advanceTimersByTimeAsync(60 * 60_000);
    chat.sendRaw('{"action":"who"}');
    expect(fake.server.received).toEqual([{ action: 'who', socket: 0 }]);
  });
});
