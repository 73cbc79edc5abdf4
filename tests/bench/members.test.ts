import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { Members } from '../../tools/bench/members';
import { runFanout } from '../../tools/bench/phases';
import { lossAndDuplicates } from '../../tools/bench/stats';

/**
 * The bench's members (roomcast clients in lean mode) against a scripted `ws` server on 127.0.0.1: what the bench
 * reports must be what the members received, every copy and every gap, and a refused send must stop it by name.
 */
let wss: WebSocketServer;
let url: string;
let members: Members;
/** The server side of each member's socket, in connection order. */
const peers: WebSocket[] = [];
/** How the scripted server answers a frame; undefined sends nothing. */
let answer: (frame: Record<string, unknown>, peer: WebSocket) => object | undefined;

beforeEach(async () => {
  peers.length = 0;
  answer = () => undefined;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((ok) => wss.once('listening', () => ok()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/prod`;
  wss.on('connection', (peer) => {
    peers.push(peer);
    peer.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Record<string, unknown>;
      const reply = answer(frame, peer);
      if (reply !== undefined) peer.send(JSON.stringify({ ...reply, requestId: frame.requestId }));
    });
  });
  members = new Members();
});

afterEach(async () => {
  await members.close();
  for (const peer of wss.clients) peer.terminate();
  await new Promise<void>((ok) => wss.close(() => ok()));
});

const message = (seq: number, roomId = 'ABCDEF') =>
  JSON.stringify({ type: 'message', roomId, seq, messageId: `m${seq}`, username: 'x', text: `t${seq}` });

test('every copy a member receives is counted: a missing and a duplicated seq show in the audit', async () => {
  await members.connect(url, 3, 'bench');
  expect(members.size).toBe(3);
  for (const peer of peers) peer.send(message(1));
  (peers[0] as WebSocket).send(message(2));
  (peers[0] as WebSocket).send(message(2));
  (peers[1] as WebSocket).send(message(2));
  // A tutorial frame: another "room" and a negative seq, counted all the same.
  for (const peer of peers) peer.send(message(-5, 'tutorial'));
  await members.received(-5, 3);
  await members.received(1, 3);
  expect(members.receipts.get(2)?.count).toBe(3);
  expect(members.seqs).toEqual([
    [1, 2, 2, -5],
    [1, 2, -5],
    [1, -5],
  ]);
  expect(lossAndDuplicates([1, 2], members.seqs)).toEqual({ missing: 1, duplicated: 1 });
});

test('a room made with createroom and joinroom (with its invite key) fans a message out to every member', async () => {
  const stored: string[] = [];
  answer = (frame) => {
    if (frame.action === 'createroom') {
      return {
        type: 'joined',
        roomId: 'ABCDEF',
        lastSeq: 0,
        members: ['bench-0'],
        inviteKey: 'k'.repeat(16),
      };
    }
    if (frame.action === 'joinroom') {
      if (frame.key !== 'k'.repeat(16)) return { type: 'error', code: 'ROOM_NOT_FOUND', message: 'no key' };
      return { type: 'joined', roomId: frame.roomId, lastSeq: 0, members: [] };
    }
    if (frame.action === 'sendmessage') {
      stored.push(String(frame.message));
      const seq = stored.length;
      setTimeout(() => {
        for (const p of peers) p.send(message(seq));
      }, 5);
      return { type: 'ack', clientMsgId: frame.clientMsgId, roomId: 'ABCDEF', seq, messageId: `m${seq}` };
    }
    return undefined;
  };
  await members.connect(url, 4, 'bench');
  const { roomId, inviteKey } = await members.createRoom(0);
  for (let i = 1; i < 4; i++) await members.join(i, roomId, inviteKey);
  const result = await runFanout(members, 2, 0, 5_000);
  expect(stored).toEqual(['bench message 0', 'bench message 1']);
  expect(result.latencies).toHaveLength(2);
  expect(result).toMatchObject({ missing: 0, duplicated: 0 });
});

test("a refused send stops the bench with the server's code, not a timeout", async () => {
  answer = (frame) =>
    frame.action === 'sendmessage'
      ? {
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'slow down',
          action: 'sendmessage',
          clientMsgId: frame.clientMsgId,
        }
      : undefined;
  await members.connect(url, 1, 'bench');
  await expect(members.send(0, 'hello')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
});
