import type { MessageFrame } from '#protocol';
import type { ConnectionState, RoomcastClientOptions, StateChange } from '../../client';
import { RoomcastError } from '../../client';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * The client library against a scripted server on Jest's fake clock: backoff, resume, dedup, ordering, the
 * outbox, idempotent retries, error correlation and bad input, as an app using it would see them.
 */
const fake = fakeServerPerTest();

function client(options: Partial<RoomcastClientOptions> = {}) {
  const chat = fake.client(options);
  const texts: string[] = [];
  const seqs: number[] = [];
  const states: StateChange[] = [];
  const errors: RoomcastError[] = [];
  chat.on('message', (m: MessageFrame) => {
    texts.push(m.text);
    seqs.push(m.seq);
  });
  chat.on('state', (s) => states.push(s));
  chat.on('error', (e) => errors.push(e));
  return { chat, texts, seqs, states, errors };
}

const stateNames = (states: StateChange[]): ConnectionState[] => states.map((s) => s.state);

async function inRoom(options: Partial<RoomcastClientOptions> = {}) {
  const c = client(options);
  await tick();
  fake.server.rooms.set('ABCDEF', []);
  const joining = c.chat.join('abcdef');
  await tick();
  await joining;
  return c;
}

describe('reconnecting', () => {
  it('backs off with full jitter, bounded, gives up after maxAttempts, and retry() starts again', async () => {
    fake.server.accept = false;
    const { chat, states } = client({ backoff: { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6 } });
    await jest.advanceTimersByTimeAsync(10_000);
    const delays = states.filter((s) => s.state === 'reconnecting').map((s) => s.delayMs);
    // random() = 0.5: half of min(1000, 100 * 2^n).
    expect(delays).toEqual([50, 100, 200, 400, 500, 500]);
    expect(chat.state).toBe('failed');
    expect(states.at(-1)?.error?.code).toBe('GAVE_UP');
    const sockets = fake.server.sockets.length;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake.server.sockets.length).toBe(sockets); // given up: no more attempts on its own

    fake.server.accept = true;
    chat.retry();
    await tick();
    expect(chat.state).toBe('ready');
  });

  it('stops at once on a refused handshake without a way to get a new token', async () => {
    fake.server.accept = false;
    fake.server.refuseStatus = 400;
    const { chat, errors } = client();
    // A caller waiting for the connection hears why it failed at once, not a TIMEOUT later.
    let refused: unknown;
    chat.ready(60_000).catch((error: unknown) => {
      refused = error;
    });
    await jest.advanceTimersByTimeAsync(5_000);
    expect(refused).toMatchObject({ code: 'HANDSHAKE_REFUSED' });
    expect(chat.state).toBe('failed');
    expect(errors[0]).toMatchObject({ code: 'HANDSHAKE_REFUSED', details: { status: 400 } });
    expect(fake.server.sockets).toHaveLength(1);
  });

  it('asks getToken again before every connect', async () => {
    let n = 0;
    const getToken = jest.fn(async () => `token-${++n}`);
    client({ username: undefined, getToken });
    await tick();
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.server.sockets.map((s) => new URL(s.url).searchParams.get('token'))).toEqual([
      'token-1',
      'token-2',
    ]);
  });

  it("presents one resume token on every reconnect, its own and no other client's, and none with a token", async () => {
    client();
    await tick();
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    const first = fake.server.sockets.map((s) => new URL(s.url).searchParams.get('resume'));
    expect(first).toHaveLength(2);
    expect(first[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(first[1]).toBe(first[0]);
    client();
    await tick();
    expect(new URL(fake.server.last.url).searchParams.get('resume')).not.toBe(first[0]);
    // Signed in, the user is the scope: no resume token goes out.
    client({ username: undefined, token: 't' });
    await tick();
    expect(new URL(fake.server.last.url).searchParams.has('resume')).toBe(false);
  });

  it('pings after keepaliveMs without traffic, and reconnects when no pong comes', async () => {
    const { chat } = client({ keepaliveMs: 60_000 });
    await tick();
    await jest.advanceTimersByTimeAsync(59_000);
    expect(fake.server.sent('ping')).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.server.sent('ping')).toHaveLength(1);
    expect(chat.state).toBe('ready'); // the pong came

    fake.server.intercept = (f) => (f.action === 'ping' ? null : undefined);
    await jest.advanceTimersByTimeAsync(60_000 + 10_000 + 1_000);
    expect(fake.server.sockets.length).toBe(2);
    expect(chat.state).toBe('ready');
  });

  it('reconnects on purpose before the 2-hour cap, without a backoff wait', async () => {
    const { chat, states } = client();
    await tick();
    await jest.advanceTimersByTimeAsync(115 * 60_000 + 50);
    expect(fake.server.sockets.length).toBe(2);
    expect(fake.server.sockets[0]?.readyState).toBe(3);
    expect(chat.state).toBe('ready');
    expect(stateNames(states)).not.toContain('reconnecting');
  });
});

describe('messages in order, once', () => {
  it('hands out each seq once and in order, whatever the arrival order', async () => {
    const { seqs } = await inRoom();
    fake.server.fanOut = false;
    const stored = ['a', 'b', 'c', 'd'].map((t) => fake.server.store('ABCDEF', t));
    for (const i of [1, 0, 1, 3, 2, 0]) fake.server.last.push(stored[i] as MessageFrame);
    await tick();
    expect(seqs).toEqual([1, 2, 3, 4]);
  });

  it('fills a gap through history', async () => {
    const { texts } = await inRoom();
    fake.server.fanOut = false;
    const stored = ['one', 'two', 'three', 'four'].map((t) => fake.server.store('ABCDEF', t));
    fake.server.last.push(stored[0] as MessageFrame);
    fake.server.last.push(stored[3] as MessageFrame);
    await tick();
    expect(texts).toEqual(['one', 'two', 'three', 'four']);
    expect(fake.server.sent('history').at(-1)).toMatchObject({ afterSeq: 1 });
  });

  it('follows hasMore when the server cuts its replies short by size: the join backlog and the resume are complete', async () => {
    fake.server.pageSize = 7;
    fake.server.rooms.set('ABCDEF', []);
    for (let i = 0; i < 60; i++) fake.server.store('ABCDEF', `backlog ${i}`);
    const { chat, seqs } = client();
    await tick();
    const joining = chat.join('abcdef');
    await tick();
    await joining;
    await tick();
    // joined carries 11..17 of the latest 50 (11..60); short pages bring the rest.
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 11));
    fake.server.last.drop();
    for (let i = 0; i < 30; i++) fake.server.store('ABCDEF', `missed ${i}`);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(chat.state).toBe('ready');
    expect(seqs).toEqual(Array.from({ length: 80 }, (_, i) => i + 11));
    // Every page after the join came back short (7) and said hasMore: none of them ended the catch-up early.
    expect(fake.server.sent('history').length).toBeGreaterThanOrEqual(5 + 5);
  });

  it('after a reconnect, rejoins and pages through history until caught up', async () => {
    const { chat, seqs, states } = await inRoom();
    fake.server.store('ABCDEF', 'before');
    await tick();
    fake.server.last.drop();
    for (let i = 0; i < 250; i++) fake.server.store('ABCDEF', `missed ${i}`);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(chat.state).toBe('ready');
    expect(seqs).toEqual(Array.from({ length: 251 }, (_, i) => i + 1));
    expect(fake.server.sent('joinroom').at(-1)).toMatchObject({ roomId: 'ABCDEF' });
    // joined carries the latest 50 (202..251): pages fill 2..101 and 102..201, an empty page says caught up.
    const resumed = fake.server.sent('history').filter((f) => f.socket === 1);
    expect(resumed.map((f) => f.afterSeq)).toEqual([1, 101, 251]);
    expect(stateNames(states).slice(-3)).toEqual(['connecting', 'resuming', 'ready']);
  });
});

describe('batch and resync frames', () => {
  const batch = (...messages: MessageFrame[]) => ({ type: 'batch', roomId: 'ABCDEF', messages });
  /** The gap fills asked for (the lobby's first page on connect names no afterSeq). */
  const historyAsks = () =>
    fake.server
      .sent('history')
      .map((f) => f.afterSeq)
      .filter((afterSeq) => afterSeq !== undefined);

  it('unpacks batches into one message event each, in seq order, across frames that arrive out of order', async () => {
    const { seqs, texts } = await inRoom();
    fake.server.fanOut = false;
    const [m1, m2, m3, m4, m5] = ['a', 'b', 'c', 'd', 'e'].map((t) =>
      fake.server.store('ABCDEF', t),
    ) as MessageFrame[];
    // A retried post (1, 2) lands after the later batch (3, 4, 5).
    fake.server.last.push(batch(m3 as MessageFrame, m4 as MessageFrame, m5 as MessageFrame));
    fake.server.last.push(batch(m1 as MessageFrame, m2 as MessageFrame));
    await tick(1);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    expect(texts).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('drops seqs it already has when a batch and a retried single message overlap', async () => {
    const { seqs } = await inRoom();
    fake.server.fanOut = false;
    const [m1, m2, m3] = ['a', 'b', 'c'].map((t) => fake.server.store('ABCDEF', t)) as MessageFrame[];
    fake.server.last.push(batch(m1 as MessageFrame, m2 as MessageFrame));
    fake.server.last.push(m2 as MessageFrame);
    fake.server.last.push(batch(m2 as MessageFrame, m3 as MessageFrame));
    fake.server.last.push(batch(m1 as MessageFrame, m2 as MessageFrame));
    await tick();
    expect(seqs).toEqual([1, 2, 3]);
    expect(historyAsks()).toEqual([]); // nothing was missing: no history read
  });

  it('fills a gap between batches from history', async () => {
    const { seqs } = await inRoom();
    fake.server.fanOut = false;
    const stored = ['a', 'b', 'c', 'd', 'e', 'f'].map((t) =>
      fake.server.store('ABCDEF', t),
    ) as MessageFrame[];
    fake.server.last.push(batch(stored[0] as MessageFrame, stored[1] as MessageFrame));
    fake.server.last.push(batch(stored[4] as MessageFrame, stored[5] as MessageFrame));
    await tick();
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(historyAsks()).toEqual([2]);
  });

  it('answers a resync of its room with a history read after its last seq, and ignores one for another room', async () => {
    const { chat, seqs } = await inRoom();
    const resyncs: unknown[] = [];
    chat.on('resync', (r) => resyncs.push(r));
    fake.server.fanOut = false;
    const stored = ['a', 'b', 'c', 'd'].map((t) => fake.server.store('ABCDEF', t)) as MessageFrame[];
    fake.server.last.push(batch(stored[0] as MessageFrame, stored[1] as MessageFrame));
    fake.server.last.push({ type: 'resync', roomId: 'QQQQQQ', afterSeq: 0 });
    await tick();
    expect(seqs).toEqual([1, 2]); // no gap is visible: without the resync, 3 and 4 would wait for the next message
    expect(historyAsks()).toEqual([]);
    fake.server.last.push({ type: 'resync', roomId: 'ABCDEF', afterSeq: 2 });
    await tick();
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(historyAsks()).toEqual([2]);
    expect(resyncs).toEqual([{ type: 'resync', roomId: 'ABCDEF', afterSeq: 2 }]);
  });

  it('survives malformed batches: each is an unknown frame, and one of its room makes it read history instead', async () => {
    const { chat, seqs, texts } = await inRoom();
    const unknown: string[] = [];
    chat.on('unknown', (u) => unknown.push(u.raw));
    fake.server.fanOut = false;
    const [m1, m2] = ['a', 'b'].map((t) => fake.server.store('ABCDEF', t)) as MessageFrame[];
    const malformed = [
      { type: 'batch', roomId: 'ABCDEF' },
      { type: 'batch', roomId: 'ABCDEF', messages: 'not a list' },
      { type: 'batch', roomId: 'ABCDEF', messages: [null, 7] },
      batch({ ...(m1 as MessageFrame), text: 5 } as unknown as MessageFrame, m2 as MessageFrame),
      batch({ ...(m1 as MessageFrame), roomId: 'QQQQQQ' }, m2 as MessageFrame),
      { type: 'batch', messages: [m1, m2] },
      { type: 'resync', roomId: 'ABCDEF', afterSeq: 'one' },
      { type: 'message', roomId: 'ABCDEF', seq: 3 },
    ];
    for (const frame of malformed) fake.server.last.push(frame);
    await tick();
    expect(unknown).toEqual(malformed.map((f) => JSON.stringify(f)));
    // Nothing a malformed frame carried was handed over; the messages came from history, once each.
    expect(texts).toEqual(['a', 'b']);
    expect(seqs).toEqual([1, 2]);
    expect(historyAsks().every((afterSeq) => afterSeq === 0 || afterSeq === 2)).toBe(true);
    expect(chat.state).toBe('ready');
    const ack = chat.send('still chatting');
    await tick();
    await expect(ack).resolves.toMatchObject({ seq: 3 });
  });
});

describe('invite keys', () => {
  it('rejoins after a reconnect with the invite key of its room, so the rejoin spends no guess', async () => {
    const { chat } = await inRoom();
    expect(fake.server.sent('joinroom')[0]?.key).toBeUndefined();
    expect(chat.inviteKey).toBe('ABCDEF-invitekey');
    fake.server.last.drop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(chat.state).toBe('ready');
    expect(fake.server.sent('joinroom').at(-1)).toMatchObject({ roomId: 'ABCDEF', key: 'ABCDEF-invitekey' });
  });

  it('sends the key a link gave, and forgets it in the lobby', async () => {
    const { chat } = client();
    await tick();
    fake.server.rooms.set('ABCDEF', []);
    const joining = chat.join('ABCDEF', 'ABCDEF-invitekey');
    await tick();
    await joining;
    expect(fake.server.sent('joinroom').at(-1)).toMatchObject({ key: 'ABCDEF-invitekey' });
    const leaving = chat.leave();
    await tick();
    await leaving;
    expect(chat.inviteKey).toBeUndefined();
  });
});

describe('sending', () => {
  it('keeps messages written offline and flushes them in order with their clientMsgIds', async () => {
    const { chat, texts } = await inRoom();
    fake.server.last.drop();
    fake.server.accept = false;
    const acks = [chat.send('first'), chat.send('second'), chat.send('third')];
    expect(chat.unsent).toBe(3);
    await jest.advanceTimersByTimeAsync(200);
    fake.server.accept = true;
    await jest.advanceTimersByTimeAsync(3_000);
    const acked = await Promise.all(acks);
    expect(acked.map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(texts).toEqual(['first', 'second', 'third']);
    expect(fake.server.sent('sendmessage').map((f) => f.clientMsgId)).toEqual(
      acked.map((a) => a.clientMsgId),
    );
  });

  it('refuses more than outboxLimit unsent messages', async () => {
    const { chat } = await inRoom({ outboxLimit: 2 });
    fake.server.last.drop();
    fake.server.accept = false;
    const kept = [chat.send('a'), chat.send('b')];
    await expect(chat.send('c')).rejects.toMatchObject({ code: 'OUTBOX_FULL' });
    fake.server.accept = true;
    await jest.advanceTimersByTimeAsync(3_000);
    await Promise.all(kept);
  });

  it('retries an unanswered send with the same clientMsgId, and the room gets it once', async () => {
    const { chat, texts } = await inRoom({ requestTimeoutMs: 1_000 });
    let swallowed = false;
    fake.server.intercept = (f) => {
      if (f.action !== 'sendmessage' || swallowed) return undefined;
      swallowed = true;
      fake.server.handle.call(fake.server, fake.server.last, JSON.stringify({ ...f, requestId: undefined })); // stored, ack lost
      return null;
    };
    const ack = chat.send('hello');
    await jest.advanceTimersByTimeAsync(5_000);
    await expect(ack).resolves.toMatchObject({ seq: 1 });
    const sends = fake.server.sent('sendmessage');
    expect(sends.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sends.map((f) => f.clientMsgId)).size).toBe(1);
    expect(texts).toEqual(['hello']);
    expect(fake.server.rooms.get('ABCDEF')).toHaveLength(1);
  });

  it('hands each error to the request it names while several are in flight', async () => {
    const { chat, errors } = await inRoom();
    let n = 0;
    fake.server.intercept = (f) => {
      if (f.action !== 'sendmessage' || ++n !== 2) return undefined;
      return {
        type: 'error',
        code: 'BAD_REQUEST',
        message: 'no',
        action: 'sendmessage',
        clientMsgId: f.clientMsgId,
      };
    };
    const [first, second, third] = [chat.send('one'), chat.send('two'), chat.send('three')];
    await tick();
    await expect(first).resolves.toMatchObject({ seq: 1 });
    await expect(second).rejects.toMatchObject({ code: 'BAD_REQUEST', details: { action: 'sendmessage' } });
    await expect(third).resolves.toMatchObject({ seq: 2 });
    fake.server.intercept = (f) =>
      f.action === 'joinroom'
        ? {
            type: 'error',
            code: 'ROOM_NOT_FOUND',
            message: 'gone',
            action: 'joinroom',
            requestId: f.requestId,
          }
        : undefined;
    const join = chat.join('QQQQQQ');
    const refused = expect(join).rejects.toMatchObject({ code: 'ROOM_NOT_FOUND' });
    await tick();
    await refused;
    await expect(join).rejects.toBeInstanceOf(RoomcastError);
    expect(chat.roomId).toBe('ABCDEF');
    expect(errors).toEqual([]);
  });
});

describe('bad input and odd frames', () => {
  it('refuses a text over 4,096 bytes and a malformed room code before sending anything', async () => {
    const { chat } = await inRoom();
    const before = fake.server.received.length;
    await expect(chat.send('é'.repeat(2049))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await expect(chat.send('   ')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(chat.join('IO01AB')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(chat.join('ABCDEFG')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(fake.server.received.length).toBe(before);
    const fits = chat.send('é'.repeat(2048));
    await tick();
    await expect(fits).resolves.toMatchObject({ seq: 1 });
  });

  it('surfaces a frame it does not understand as an event, and goes on', async () => {
    const { chat, texts } = await inRoom();
    const unknown: unknown[] = [];
    chat.on('unknown', (u) => unknown.push(u.raw));
    fake.server.last.push('not json');
    fake.server.last.push({ type: 'surprise' });
    fake.server.last.push('[1,2]');
    fake.server.store('ABCDEF', 'still here');
    await tick();
    expect(unknown).toEqual(['not json', '{"type":"surprise"}', '[1,2]']);
    expect(texts).toEqual(['still here']);
  });

  it('times out a request the server never answers with a typed error', async () => {
    const { chat } = await inRoom({ requestTimeoutMs: 2_000 });
    fake.server.intercept = (f) => (f.action === 'who' ? null : undefined);
    const who = chat.who();
    const outcome = expect(who).rejects.toMatchObject({ code: 'TIMEOUT', details: { action: 'who' } });
    await jest.advanceTimersByTimeAsync(2_001);
    await outcome;
  });
});

describe('lean mode (the bench and the load processor)', () => {
  it('is ready as soon as the socket opens and hands over every message frame as it came, copies and gaps included', async () => {
    const { chat, seqs } = client({ lean: true });
    await tick();
    expect(chat.state).toBe('ready');
    expect(fake.server.sent('history')).toHaveLength(0); // no lobby resume
    fake.server.rooms.set('ABCDEF', []);
    const joining = chat.join('ABCDEF');
    await tick();
    await joining;
    fake.server.fanOut = false;
    const stored = ['a', 'b', 'c', 'd'].map((t) => fake.server.store('ABCDEF', t));
    for (const i of [1, 0, 1, 3]) fake.server.last.push(stored[i] as MessageFrame);
    fake.server.last.push({ ...stored[0], roomId: 'tutorial', seq: -7 } as MessageFrame);
    await tick();
    expect(seqs).toEqual([2, 1, 2, 4, -7]); // what a delivery audit must see: the duplicate 2, the missing 3
    expect(fake.server.sent('history')).toHaveLength(0); // no gap fill either
  });

  it('hands over the messages of a batch one by one as they came, and a resync as an event only', async () => {
    const { chat, seqs } = client({ lean: true });
    const resyncs: number[] = [];
    chat.on('resync', (r) => resyncs.push(r.afterSeq));
    await tick();
    fake.server.rooms.set('ABCDEF', []);
    const joining = chat.join('ABCDEF');
    await tick();
    await joining;
    fake.server.fanOut = false;
    const stored = ['a', 'b', 'c'].map((t) => fake.server.store('ABCDEF', t));
    fake.server.last.push({ type: 'batch', roomId: 'ABCDEF', messages: [stored[2], stored[1]] });
    fake.server.last.push({ type: 'batch', roomId: 'ABCDEF', messages: [stored[1], stored[2]] });
    fake.server.last.push({ type: 'resync', roomId: 'ABCDEF', afterSeq: 0 });
    await tick();
    expect(seqs).toEqual([3, 2, 2, 3]);
    expect(resyncs).toEqual([0]);
    expect(fake.server.sent('history')).toHaveLength(0);
  });

  it('sends no keepalive and does not reconnect: a close fails it and its unsent messages', async () => {
    const { chat } = client({ lean: true, keepaliveMs: 60_000 });
    await tick();
    await jest.advanceTimersByTimeAsync(120 * 60_000);
    expect(fake.server.sent('ping')).toHaveLength(0);
    expect(fake.server.sockets).toHaveLength(1); // no planned reconnect at the 2-hour cap either
    fake.server.intercept = (f) => (f.action === 'sendmessage' ? null : undefined);
    const unanswered = chat.send('lost with the socket');
    const outcome = expect(unanswered).rejects.toMatchObject({ code: 'DISCONNECTED' });
    fake.server.last.drop();
    await tick();
    await outcome;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake.server.sockets).toHaveLength(1);
    expect(chat.state).toBe('failed');
  });

  it('starts on a socket its factory hands over already open (a load tool opened it)', async () => {
    const opened = new fake.server.WebSocket('ws://fake/prod?username=tool');
    await tick();
    expect(opened.readyState).toBe(1);
    const adopt = class {
      constructor() {
        // biome-ignore lint/correctness/noConstructorReturn: the factory hands over the socket that is open already
        return opened;
      }
    } as unknown as RoomcastClientOptions['WebSocket'];
    const { chat } = client({ lean: true, WebSocket: adopt });
    await tick(1);
    expect(chat.state).toBe('ready');
    const creating = chat.createRoom();
    await tick();
    const { roomId } = await creating;
    expect(roomId).toMatch(/^NEWRM/);
    expect(fake.server.sockets).toHaveLength(1);
  });
});
