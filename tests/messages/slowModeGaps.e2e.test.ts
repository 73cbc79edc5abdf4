import type { RoomcastClient, RoomcastClientOptions } from '@roomcast/client';
import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';
import type { MessageFrame } from '#protocol';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * A send refused by slow mode costs the room's members nothing, through the local cloud and the client library: its
 * seq is given up, and the fan-out tells members so on the frame of the next message (`gaps`: docs/DECISIONS.md,
 * "Gaps are told where members read"), so every member gets that next message without holding it above a hole and
 * without one `history` request.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
const clients: RoomcastClient[] = [];

/** Every frame the clients sent, by action, counted at their sockets. */
const sentActions: string[] = [];

/** The `ws` socket, counting each frame the client sends by its action. */
class CountingSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    try {
      const action = (JSON.parse(String(data)) as { action?: unknown }).action;
      if (typeof action === 'string') sentActions.push(action);
    } catch {
      // Not JSON: not a request.
    }
    (super.send as (...args: unknown[]) => void)(data, ...rest);
  }
}

beforeAll(async () => {
  testCloud = await startTestCloud({ settings: { SendRateLimit: '1000', FrameRateLimit: '100000' } });
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.close();
  await testCloud?.cloud.close();
});

interface Member {
  chat: RoomcastClient;
  texts: string[];
  seqs: number[];
}

function member(username: string): Member {
  const chat = createRoomcastClient({
    url: testCloud.cloud.wsUrl,
    username,
    WebSocket: CountingSocket as unknown as RoomcastClientOptions['WebSocket'],
    // Cold functions on a busy 2-core machine may take seconds.
    requestTimeoutMs: 20_000,
  });
  clients.push(chat);
  const m: Member = { chat, texts: [], seqs: [] };
  chat.on('message', (message: MessageFrame) => {
    m.texts.push(message.text);
    m.seqs.push(message.seq);
  });
  return m;
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const historyCalls = () => sentActions.filter((action) => action === 'history').length;

it('a send refused by slow mode stalls no member and costs no history request: its seq rides the next frame', async () => {
  const owner = member('owner-slow');
  const members = ['bob-slow', 'carol-slow', 'dave-slow'].map(member);
  const [bob] = members as [Member, ...Member[]];
  const everyone = [owner, ...members];
  await Promise.all(everyone.map((m) => m.chat.ready(30_000)));
  const { roomId } = await owner.chat.createRoom();
  for (const m of members) await m.chat.join(roomId);
  await owner.chat.setSlowMode(60);

  // Bob's first message takes his turn; every member has it before the refused send, so any read a member made
  // while the room was quiet (its check a moment after joining) is behind us.
  const first = (await bob.chat.send('first')) as { seq: number };
  await until(
    () => everyone.every((m) => m.texts.includes('first')),
    'every member to get the first message',
  );
  const before = historyCalls();

  // His second is inside the interval: refused, its seq given up.
  await expect(bob.chat.send('too soon')).rejects.toMatchObject({ code: 'SLOW_MODE' });
  // The owner is exempt: the next seq after the given-up one.
  const next = (await owner.chat.send('after the refusal')) as { seq: number };
  expect(next.seq).toBe(first.seq + 2);

  await until(
    () => everyone.every((m) => m.texts.includes('after the refusal')),
    'every member to get the message after the refused one',
  );
  for (const m of everyone) {
    expect(m.texts).toEqual(['first', 'after the refusal']);
    expect(m.seqs).toEqual([first.seq, next.seq]);
    expect(m.chat.lastSeq).toBe(next.seq);
  }
  // No member asked history for the given-up seq: not when the message came, nor after every fan-out has settled
  // (a member holding it above a hole would have asked at once, and again after its wait).
  expect(historyCalls() - before).toBe(0);
  await testCloud.settle();
  expect(historyCalls() - before).toBe(0);
});

it('a joiner of a room whose backlog holds given-up seqs, the newest among them, asks no history for them', async () => {
  const owner = member('owner-join');
  const bob = member('bob-join');
  await Promise.all([owner, bob].map((m) => m.chat.ready(30_000)));
  const { roomId } = await owner.chat.createRoom();
  await bob.chat.join(roomId);
  await owner.chat.setSlowMode(60);
  const first = (await bob.chat.send('first')) as { seq: number };
  await expect(bob.chat.send('too soon')).rejects.toMatchObject({ code: 'SLOW_MODE' });
  const next = (await owner.chat.send('after the refusal')) as { seq: number };
  // The room's newest seq is given up too: nothing above it will bring its gap.
  await expect(bob.chat.send('too soon again')).rejects.toMatchObject({ code: 'SLOW_MODE' });
  await testCloud.settle();

  const erin = member('erin-join');
  await erin.chat.ready(30_000);
  const before = historyCalls();
  await erin.chat.join(roomId);
  expect(erin.seqs).toEqual([first.seq, next.seq]);
  expect(erin.chat.lastSeq).toBe(next.seq + 1);
  await testCloud.settle();
  expect(historyCalls() - before).toBe(0);
});
