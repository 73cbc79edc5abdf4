import { type ChatClient, type Frame, isError, isPresence } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Typing indicators end to end (docs/PROTOCOL.md, "Typing"): a heartbeat reaches the other members of a small room
 * once per interval, never the typist, never history, and no room above TypingMaxMembers. The interval is the
 * longest the setting allows, so a burst falls within one however slowly a busy machine serves it; when the next
 * heartbeat goes through is typingInterval.test.ts's, on an injected clock.
 */
jest.setTimeout(240_000);

const INTERVAL_SECONDS = 60;
const MAX_MEMBERS = 3;
const stage = roomCloud({
  settings: {
    TypingIntervalSeconds: String(INTERVAL_SECONDS),
    TypingMaxMembers: String(MAX_MEMBERS),
    SendRateLimit: '1000',
    FrameRateLimit: '100000',
    StrikeLimit: '100000',
  },
});
const { connect } = stage;

const two = async (a: string, b: string) =>
  (await Promise.all([a, b].map(connect))) as [ChatClient, ChatClient];
const three = async (a: string, b: string, c: string) =>
  (await Promise.all([a, b, c].map(connect))) as [ChatClient, ChatClient, ChatClient];

/** A room with these clients in it, each having seen every later join. */
async function roomOf(...clients: ChatClient[]): Promise<string> {
  const [owner, ...others] = clients;
  if (!owner) throw new Error('roomOf needs a client');
  // Setting up, not the subject: on a loaded CI machine a join here was once answered BUSY (chatClient.ts, expectReply asks again).
  const roomId = (await owner.expectReply({ action: 'createroom' })).roomId as string;
  for (const [i, joiner] of others.entries()) {
    await joiner.expectReply({ action: 'joinroom', roomId });
    await Promise.all(
      clients.slice(0, i + 2).map((c) => c.next(isPresence(roomId, 'join', joiner.username))),
    );
  }
  return roomId;
}

const typingOf =
  (username: string, typing = true) =>
  (f: Frame) =>
    f.type === 'typing' && f.username === username && f.typing === typing;
const typingFrames = (client: ChatClient) => client.frames.filter((f) => f.type === 'typing');

/** A message as a marker: every frame sent before it has arrived once it does (one connection, in order). */
async function marker(sender: ChatClient, receivers: ChatClient[], text: string): Promise<void> {
  await sender.expectReply({ action: 'sendmessage', message: text });
  await Promise.all(receivers.map((r) => r.next((f) => f.type === 'message' && f.text === text)));
  await stage.test.settle();
}

it('a burst of keystrokes reaches the others as one frame, and never the typist', async () => {
  const [alice, bob, carol] = await three('alice', 'bob', 'carol');
  // A first frame from the lobby (dropped there) starts the typing function, so the burst meets a warm one. It comes
  // from a connection of its own: frames of one connection run concurrently, so alice's could land after her join,
  // take her interval and leave the whole burst throttled.
  (await connect('warm-up')).send({ action: 'typing' });
  const roomId = await roomOf(alice, bob, carol);
  const started = Date.now();
  for (let i = 0; i < 10; i++) alice.send({ action: 'typing' });
  for (const other of [bob, carol]) {
    const frame = await other.next(typingOf('alice'));
    expect(frame).toEqual({
      type: 'typing',
      roomId,
      username: 'alice',
      // Her key in the room, as her messages carry it: whoever blocked her hides her typing by it.
      authorKey: expect.any(String),
      typing: true,
      expiresInMs: INTERVAL_SECONDS * 1000 + 2000,
      // When it was relayed (a client compares it with a message's sentAt): during the burst, not before it.
      at: expect.any(Number),
    });
    expect(frame.at).toBeGreaterThanOrEqual(started);
    expect(frame.at).toBeLessThanOrEqual(Date.now());
  }
  // Once a message sent after the burst has arrived and the functions are idle, every frame of it has been served.
  await marker(alice, [bob, carol], 'after the burst');
  expect(typingFrames(bob)).toHaveLength(1);
  expect(typingFrames(carol)).toHaveLength(1);
  expect(typingFrames(alice)).toHaveLength(0);
});

it('a stop reaches the others once; a send lets the next keystroke through at once; history holds no typing', async () => {
  const [dora, eve] = await two('dora', 'eve');
  await roomOf(dora, eve);
  dora.send({ action: 'typing' });
  await eve.next(typingOf('dora'));
  dora.send({ action: 'typing', typing: false });
  dora.send({ action: 'typing', typing: false });
  const stop = await eve.next(typingOf('dora', false));
  expect(stop).not.toHaveProperty('expiresInMs');

  // Within the interval of the last heartbeat, but after a message: shown again at once.
  await marker(dora, [eve], 'sent while typing');
  dora.send({ action: 'typing' });
  await eve.next(typingOf('dora'));
  await marker(dora, [eve], 'marker');
  expect(typingFrames(eve).map((f) => f.typing)).toEqual([true, false, true]);

  const history = await eve.expectReply({ action: 'history' });
  expect((history.messages as Frame[]).map((m) => m.text)).toEqual(['sent while typing', 'marker']);
});

it('a room above TypingMaxMembers relays no typing at all', async () => {
  const clients = await Promise.all(['fay', 'gus', 'hal', 'ivy'].map(connect));
  await roomOf(...clients);
  const fay = clients[0] as ChatClient;
  fay.send({ action: 'typing' });
  await marker(fay, clients, 'after typing');
  for (const client of clients) expect(typingFrames(client)).toHaveLength(0);
});

it("a muted member's typing reaches nobody; unmuted, it shows again", async () => {
  const [lea, max, ned] = await three('lea', 'max', 'ned');
  await roomOf(lea, max, ned);
  await lea.expectReply({ action: 'mute', username: 'max' });
  await max.next((f) => f.type === 'muted');
  max.send({ action: 'typing' });
  await marker(lea, [ned], 'while max is muted');
  expect(typingFrames(ned)).toHaveLength(0);
  expect(typingFrames(lea)).toHaveLength(0);

  await lea.expectReply({ action: 'unmute', username: 'max' });
  max.send({ action: 'typing' });
  await ned.next(typingOf('max'));
});

it('bad input gets an error frame; typing in the lobby is dropped without one', async () => {
  const [jon, kim] = await two('jon', 'kim');
  jon.send({ action: 'typing' });
  jon.send({ action: 'typing', typing: 'yes' });
  const error = await jon.next(isError('BAD_REQUEST'));
  expect(error).toMatchObject({ action: 'typing', message: expect.stringContaining('"typing"') });
  await marker(jon, [kim], 'lobby marker');
  expect(typingFrames(kim)).toHaveLength(0);
  expect(jon.frames.filter((f) => f.type === 'error')).toHaveLength(1);
});
