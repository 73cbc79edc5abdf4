import type { RoomcastClient, RoomcastClientOptions } from '@roomcast/client';
import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';
import type { MessageFrame } from '#protocol';
import { ChatClient } from '../helpers/chatClient';
import { deleteConnection, startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The client library against the local cloud while the gateway drops connections (DELETE @connections, the idle
 * and hard timeouts), management posts are throttled and PutEvents fails: every message reaches every member
 * once, in seq order, and every send is acknowledged once.
 */
jest.setTimeout(240_000);

/**
 * Ten keepalives (300 ms) to an idle timeout: the gateway and the clients share this process, and a loaded machine
 * may stall it for a second, after which the gateway's sweep can run before a ping that was due reaches it.
 */
const IDLE_TIMEOUT_MS = 3_000;
const HARD_TIMEOUT_MS = 8_000;
const KEEPALIVE_MS = 300;

let testCloud: TestCloud;
const clients: RoomcastClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    // Every sendmessage counts against FrameRateLimit too: both lifted, as the limits have tests of their own.
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000' },
    // Short gateway limits so the test sees them: the keepalive must beat the idle one, resume the hard one.
    idleTimeoutMs: IDLE_TIMEOUT_MS,
    hardTimeoutMs: HARD_TIMEOUT_MS,
    // The fan-out's waits before a throttled post is tried again (2 s, then rounds of resync tries up to half a minute
    // apart) last 10 ms per second: what counts here is that every message arrives once and in order, not when.
    stepFunctionsTestClock: { msPerSecond: 10, states: ['WaitToRepost', 'WaitToResync'] },
  });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await testCloud?.cloud.close();
});

afterEach(() => {
  testCloud.cloud.gateway.setFaults({ faultThrottle: 0 });
  testCloud.cloud.eventBridge.setFaultPutEvents(0);
  for (const c of clients.splice(0)) c.close();
});

interface Member {
  chat: RoomcastClient;
  texts: string[];
  seqs: number[];
  connects: number;
  /** Connections of the member that closed under it (it went on to reconnect). */
  drops: number;
}

function member(username: string, options: Partial<RoomcastClientOptions> = {}): Member {
  const chat = createRoomcastClient({
    url: testCloud.cloud.wsUrl,
    username,
    WebSocket: WebSocket as unknown as RoomcastClientOptions['WebSocket'],
    keepaliveMs: KEEPALIVE_MS,
    maxConnectionMs: 60_000,
    backoff: { initialDelayMs: 50, maxDelayMs: 500 },
    // Cold functions on a busy 2-core machine may take seconds.
    requestTimeoutMs: 20_000,
    ...options,
  });
  clients.push(chat);
  const m: Member = { chat, texts: [], seqs: [], connects: 0, drops: 0 };
  chat.on('message', (message: MessageFrame) => {
    m.texts.push(message.text);
    m.seqs.push(message.seq);
  });
  chat.on('state', (s) => {
    if (s.state === 'ready') m.connects++;
    if (s.state === 'reconnecting' && s.attempt === 1 && m.connects > 0) m.drops++;
  });
  return m;
}

async function until(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function dropConnection(chat: RoomcastClient): Promise<void> {
  const { connectionId } = await chat.info();
  // 'gone': the gateway had closed it already (the hard timeout of this cloud is short): dropped either way.
  await deleteConnection(testCloud.cloud.gateway.callbackUrl, connectionId);
}

it('keeps a room in order and complete through dropped connections, throttled posts and failed PutEvents', async () => {
  const alice = member('alice');
  const bob = member('bob');
  await Promise.all([alice.chat.ready(30_000), bob.chat.ready(30_000)]);
  const { roomId } = await alice.chat.createRoom();
  await bob.chat.join(roomId.toLowerCase());

  testCloud.cloud.gateway.setFaults({ faultThrottle: 0.2 });
  testCloud.cloud.eventBridge.setFaultPutEvents(0.2);
  const sent: Array<Promise<unknown>> = [];
  for (let i = 1; i <= 40; i++) {
    const from = i % 2 === 0 ? bob : alice;
    sent.push(from.chat.send(`m${i}`));
    if (i % 10 === 0) await dropConnection(i % 20 === 0 ? alice.chat : bob.chat);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const acks = (await Promise.all(sent)) as Array<{ seq: number }>;
  // Forty messages under forty seqs. Not always 1..40: a send whose store comes later than the room's hole wait (a
  // loaded machine) finds its seq fenced and is stored under a new one (deliver/roomLog.ts HOLE_PASS_MS, docs/RELIABILITY.md); its ack names it.
  const seqs = acks.map((a) => a.seq).sort((a, b) => a - b);
  expect(new Set(seqs).size).toBe(40);

  for (const m of [alice, bob]) {
    // Forty sends at once put the fan-out behind them: the local Lambda serves the invocations clients wait for
    // first (docs/PARITY.md, "Local Lambda"), so on a busy machine delivery catches up after the burst, and its 429
    // retries wait after that.
    await until(() => m.seqs.length >= 40, `${m.chat.roomId} to reach 40 messages`, 60_000);
    // Complete and in order: every acked seq, ascending, each once.
    expect(m.seqs).toEqual(seqs);
    expect(new Set(m.texts).size).toBe(40);
  }
  expect(bob.connects).toBeGreaterThanOrEqual(3);
});

it('stays connected past the idle timeout with ping, and resumes after the hard timeout', async () => {
  const { gateway } = testCloud.cloud;
  const closedSince = (mark: { idleClosed: number; hardClosed: number }) => ({
    idle: gateway.stats().idleClosed - mark.idleClosed,
    hard: gateway.stats().hardClosed - mark.hardClosed,
  });
  // The earlier test's clients are closed: their sockets leave the gateway before Carol comes.
  await until(() => gateway.connectionCount() === 0, 'the earlier clients to be gone');
  const carol = member('carol');
  await carol.chat.ready(30_000);
  const { roomId } = await carol.chat.createRoom();
  const pings = testCloud.invocations.length;
  // Carol alone on the gateway, so every close it makes is hers: she pings, so it is the hard timeout's, never the
  // idle one's. Waited for by the event, however long a loaded machine takes to get there.
  const alone = gateway.stats();
  await until(() => carol.drops >= 1 && carol.connects >= 2, 'a close of carol and her resume', 60_000);
  expect(closedSince(alone)).toEqual({ idle: 0, hard: expect.any(Number) });
  expect(closedSince(alone).hard).toBeGreaterThanOrEqual(1);
  expect(testCloud.invocations.slice(pings).filter((i) => i.routeKey === 'ping')).toEqual([]);

  // Dave sends no ping: the gateway closes him and he comes back.
  // Counted from before he connects: on a loaded machine his idle close may come while he is still joining.
  const withDave = gateway.stats();
  const dave = member('dave', { keepaliveMs: 60_000 });
  await dave.chat.ready(30_000);
  await dave.chat.join(roomId);
  // The gateway closes him (idle; or, where the room's posts kept him active, as a push is activity on AWS too, at
  // the hard timeout: the idle rule itself is the gateway tests'), and he comes back.
  await until(() => dave.drops >= 1, 'a close of dave by the gateway', 60_000);
  const daveClosed = closedSince(withDave);
  expect(daveClosed.idle + daveClosed.hard).toBeGreaterThanOrEqual(1);
  await until(() => dave.connects >= 2, 'dave back after his close', 60_000);

  // Carol resumed after the hard timeout and misses nothing sent meanwhile.
  const daveSeqs: number[] = [];
  for (let i = 1; i <= 5; i++) daveSeqs.push(((await dave.chat.send(`after ${i}`)) as { seq: number }).seq);
  await until(() => carol.seqs.length >= 5, 'carol to catch up');
  expect(carol.seqs).toEqual(daveSeqs);
  expect(carol.chat.roomId).toBe(roomId);
});

it('answers the AWS tutorial first frame, and names the request each error answers', async () => {
  // Frames as a user types them into wscat: the tests' wire-level client sends them as they are.
  const wscat = await ChatClient.connect(testCloud.cloud.wsUrl, 'tutorial');
  const frames = wscat.frames;
  // This cloud's idle timeout is short and cold functions may take longer: ping while waiting, as the client does.
  const keepalive = setInterval(() => wscat.isOpen && wscat.send('{"action":"ping"}'), KEEPALIVE_MS);
  wscat.send('test');
  wscat.send({ action: 'joinroom', roomId: 'QQQQQQ', requestId: 'join-1' });
  wscat.send({ action: 'sendmessage', message: '', clientMsgId: 'msg-7', requestId: 'send-7' });
  await until(() => frames.filter((f) => f.type !== 'pong').length >= 3, 'three answers');
  clearInterval(keepalive);
  await wscat.close();
  const tutorial = frames.find((f) => f.action === '$default');
  expect(tutorial).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  expect(String(tutorial?.message)).toMatch(
    /^Use the sendmessage route to send a message\. Your info: \{.*"connectionID":"[^"]+"/,
  );
  expect(frames.find((f) => f.action === 'joinroom')).toMatchObject({
    code: 'ROOM_NOT_FOUND',
    requestId: 'join-1',
  });
  expect(frames.find((f) => f.action === 'sendmessage')).toMatchObject({
    code: 'BAD_REQUEST',
    requestId: 'send-7',
    clientMsgId: 'msg-7',
  });
});
