import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { ChatClient, isMessage } from '../helpers/chatClient';
import { DeliveryChecker } from '../helpers/deliveryChecker';

/**
 * The tests' chat client and delivery checker against a scripted server on 127.0.0.1 that sends a busy room's
 * messages in `batch` frames: each message is awaited and counted once, copies and gaps still show.
 */
let wss: WebSocketServer;
let url: string;
const stored = [1, 2, 3, 4, 5, 6].map((seq) => ({
  type: 'message',
  roomId: 'ABCDEF',
  seq,
  messageId: `m${seq}`,
  username: 'someone',
  text: `t${seq}`,
  sentAt: new Date(0).toISOString(),
}));
const m = (seq: number) => stored[seq - 1] as (typeof stored)[number];
let peer: WebSocket | undefined;

beforeEach(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((ok) => wss.once('listening', () => ok()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/prod`;
  wss.on('connection', (socket) => {
    peer = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      const after = Number(frame.afterSeq ?? 0);
      const reply =
        frame.action === 'joinroom'
          ? { type: 'joined', roomId: 'ABCDEF', members: [], memberCount: 1, history: [], lastSeq: 0 }
          : frame.action === 'history'
            ? { type: 'history', roomId: 'ABCDEF', messages: stored.filter((s) => s.seq > after) }
            : undefined;
      if (reply) socket.send(JSON.stringify({ ...reply, requestId: frame.requestId }));
    });
  });
});

afterEach(async () => {
  for (const socket of wss.clients) socket.terminate();
  await new Promise<void>((ok) => wss.close(() => ok()));
});

test('a batch counts each message once; an overlap is a copy, a gap is lost until history fills it', async () => {
  const client = await ChatClient.connect(url, 'member');
  const joined = await client.expectReply({ action: 'joinroom', roomId: 'ABCDEF' });
  const checker = new DeliveryChecker();
  checker.member(client, joined);
  const send = (frame: object) => peer?.send(JSON.stringify(frame));
  send(m(1));
  send({ type: 'batch', roomId: 'ABCDEF', messages: [m(2), m(3)] });
  send({ type: 'batch', roomId: 'ABCDEF', messages: [m(3), m(4)] }); // a retried post overlaps the next batch
  send(m(6)); // 5 never comes live
  // A test waiting for one message gets it out of its batch.
  expect((await client.next(isMessage('ABCDEF', 't4'))).seq).toBe(4);
  await client.next(isMessage('ABCDEF', 't6'));
  expect(client.seqs('ABCDEF')).toEqual([1, 2, 3, 3, 4, 6]);
  expect(checker.arrivals(client)).toEqual([1, 2, 3, 3, 4, 6]);
  await checker.fillGaps();
  const report = checker.report();
  expect(report).toMatchObject({
    expectedDeliveries: 6,
    deliveries: 6,
    frames: 4,
    duplicated: 1,
    lost: 0,
    filledByHistory: 1,
  });
  expect(report.problems).toEqual([
    expect.objectContaining({ duplicated: [3], lost: [], filledByHistory: [5] }),
  ]);
  await client.close();
});

test("history is read from the audit's own replies: an earlier send's gateway timeout is not one", async () => {
  const client = await ChatClient.connect(url, 'sender');
  const joined = await client.expectReply({ action: 'joinroom', roomId: 'ABCDEF' });
  const checker = new DeliveryChecker();
  checker.member(client, joined);
  // A send of this member passed the 29 s integration timeout during the burst: API Gateway's frame for it names the
  // connection and the gateway's own request id, nothing the client sent. The sender's other sends were answered.
  const arrived = new Promise((resolve) => client.onFrame(resolve));
  peer?.send(JSON.stringify({ message: 'Endpoint request timed out', connectionId: 'c1', requestId: 'r1' }));
  await arrived;
  await checker.fillGaps();
  expect(checker.report()).toMatchObject({ expectedDeliveries: 6, lost: 0, filledByHistory: 6 });
  await client.close();
});
