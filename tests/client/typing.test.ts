import type { RoomcastClient, TypingUpdate } from '../../client';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * `client.typing` on Jest's fake clock (client/typing.ts): heartbeats at most once per interval, typists that expire
 * without a stop frame, and a fresh start after a reconnect.
 */
const fake = fakeServerPerTest();
const HEARTBEAT_MS = 5000;

async function inRoom(): Promise<{ chat: RoomcastClient; updates: string[][] }> {
  const chat = fake.client({ typingHeartbeatMs: HEARTBEAT_MS });
  const updates: string[][] = [];
  chat.typing.on('typing', (u: TypingUpdate) => updates.push(u.typists));
  await tick();
  fake.server.rooms.set('ABCDEF', []);
  const joining = chat.join('ABCDEF');
  await tick();
  await joining;
  return { chat, updates };
}

const typingSent = () => fake.server.sent('typing').map(({ socket: _, ...frame }) => frame);
const typingFrame = (username: string, typing = true, expiresInMs = 7000) => ({
  type: 'typing',
  roomId: 'ABCDEF',
  username,
  typing,
  ...(typing && { expiresInMs }),
});

it('a burst of keystrokes sends one heartbeat per interval, none in the lobby', async () => {
  const chat = fake.client({ typingHeartbeatMs: HEARTBEAT_MS });
  await tick();
  expect(chat.typing.keystroke()).toBe(false); // the lobby shows no typing
  fake.server.rooms.set('ABCDEF', []);
  const joining = chat.join('ABCDEF');
  await tick();
  await joining;
  for (let i = 0; i < 40; i++) {
    chat.typing.keystroke();
    await jest.advanceTimersByTimeAsync(100); // 4 s of typing
  }
  expect(typingSent()).toEqual([{ action: 'typing' }]);
  await jest.advanceTimersByTimeAsync(HEARTBEAT_MS - 4000);
  expect(chat.typing.keystroke()).toBe(true);
  expect(typingSent()).toHaveLength(2);
});

it('a typist is dropped when its heartbeat expires, with no stop frame', async () => {
  const { chat, updates } = await inRoom();
  fake.server.last.push(typingFrame('alice'));
  await tick();
  expect(chat.typing.current).toEqual(['alice']);
  await jest.advanceTimersByTimeAsync(6900);
  expect(chat.typing.current).toEqual(['alice']);
  await jest.advanceTimersByTimeAsync(100);
  expect(chat.typing.current).toEqual([]);
  expect(updates).toEqual([['alice'], []]);
});

it('a heartbeat keeps a typist shown; its message or its stop drops it at once', async () => {
  const { chat, updates } = await inRoom();
  fake.server.last.push(typingFrame('alice'));
  fake.server.last.push(typingFrame('bob'));
  await jest.advanceTimersByTimeAsync(5000);
  fake.server.last.push(typingFrame('alice'));
  await jest.advanceTimersByTimeAsync(3000); // bob's expired, alice's renewed
  expect(chat.typing.current).toEqual(['alice']);
  fake.server.store('ABCDEF', 'done typing', 'alice');
  await tick();
  expect(chat.typing.current).toEqual([]);
  fake.server.last.push(typingFrame('carol'));
  fake.server.last.push(typingFrame('carol', false));
  await tick();
  expect(updates).toEqual([['alice'], ['alice', 'bob'], ['alice'], [], ['carol'], []]);
});

it('stop() tells the others only while a heartbeat shows; a send lets the next keystroke through', async () => {
  const { chat } = await inRoom();
  chat.typing.stop();
  expect(typingSent()).toEqual([]);
  chat.typing.keystroke();
  chat.typing.stop();
  expect(typingSent()).toEqual([{ action: 'typing' }, { action: 'typing', typing: false }]);
  chat.typing.keystroke(); // the stop ended the interval too
  const sending = chat.send('hello');
  await tick();
  await sending;
  expect(chat.typing.keystroke()).toBe(true);
  expect(typingSent()).toHaveLength(4);
});

it('after a reconnect the typists are forgotten and the next keystroke sends at once', async () => {
  const { chat, updates } = await inRoom();
  chat.typing.keystroke();
  fake.server.last.push(typingFrame('alice'));
  await tick();
  fake.server.last.drop();
  await jest.advanceTimersByTimeAsync(1000);
  expect(chat.state).toBe('ready');
  expect(updates.at(-1)).toEqual([]);
  expect(chat.typing.keystroke()).toBe(true);
  const sockets = fake.server.sent('typing').map((f) => f.socket);
  expect(sockets).toHaveLength(2);
  expect(sockets[1]).not.toBe(sockets[0]);
});

it("a heartbeat relayed before its typist's message but arriving after it is not shown; one relayed after it is", async () => {
  const { chat } = await inRoom();
  fake.server.last.push(typingFrame('alice'));
  await tick();
  fake.server.store('ABCDEF', 'sent', 'alice');
  await tick();
  const sentAt = Date.parse(String(fake.server.rooms.get('ABCDEF')?.at(-1)?.sentAt));
  // Relayed straight, the heartbeat of the keystroke before Enter lands after the message it preceded.
  fake.server.last.push({ ...typingFrame('alice'), at: sentAt - 5 });
  await tick();
  expect(chat.typing.current).toEqual([]);
  // She types again after sending: relayed after her message, shown at once.
  fake.server.last.push({ ...typingFrame('alice'), at: sentAt + 5 });
  await tick();
  expect(chat.typing.current).toEqual(['alice']);
});

it("a message that comes through the fan-out after its typist's newer heartbeat leaves the typist shown", async () => {
  const { chat } = await inRoom();
  // She sent, then typed on: her next heartbeat is relayed (at 5) after the message was sent (at 0) …
  fake.server.fanOut = false;
  const late = fake.server.store('ABCDEF', 'sent', 'alice');
  fake.server.last.push({ ...typingFrame('alice'), at: Date.parse(late.sentAt) + 5 });
  await tick();
  expect(chat.typing.current).toEqual(['alice']);
  // … and the message reaches this member later, through the fan-out: she is still typing.
  fake.server.toRoom('ABCDEF', late);
  await tick();
  expect(chat.typing.current).toEqual(['alice']);
  // Her next message, sent after that heartbeat, ends it.
  fake.server.toRoom('ABCDEF', {
    ...late,
    seq: 2,
    messageId: 'msg-ABCDEF-2',
    sentAt: new Date(10).toISOString(),
  });
  await tick();
  expect(chat.typing.current).toEqual([]);
});
