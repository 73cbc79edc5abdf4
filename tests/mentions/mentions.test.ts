import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Mentions through the local cloud with sign-in: `@name` names a member of the room as the server resolves it among
 * the room's members (longest name first, whole names only, the sender never), the message carries the names to
 * everyone and in history, and each device of a signed-in member named that shows another room gets a `mention`
 * frame; a name nobody in the room has names nobody and tells nobody.
 */
jest.setTimeout(240_000);

const { device, ask, roomOf, settle } = signedInCloud({ FrameRateLimit: '100000', StrikeLimit: '100000' });

const isMessage = (text: string) => (f: Frame) => f.type === 'message' && f.text === text;

it('resolves @names among the members, shows them to the room and in history, and tells the named on other devices', async () => {
  const {
    roomId,
    devices: [ana, bob, anaMaria],
  } = await roomOf('ana', 'bob', 'ana maria');
  // Bob's phone shows another room: it hears of the mention by a `mention` frame.
  const bobPhone = await device('bob');
  await bobPhone.expectReply({ action: 'createroom' });
  const carol = await device('carol');

  const text = 'Hi @BOB and @ana maria! Not @bobby, @carol (not here) or @ana herself.';
  const ack = await ask(ana, { action: 'sendmessage', message: text });
  const live = await bob.next(isMessage(text));
  expect(live.mentions).toEqual(['bob', 'ana maria']);
  expect((await anaMaria.next(isMessage(text))).mentions).toEqual(['bob', 'ana maria']);

  const notice = await bobPhone.next((f) => f.type === 'mention');
  expect(notice).toEqual({
    type: 'mention',
    roomId,
    seq: ack.seq,
    username: 'ana',
    text: text.slice(0, 120),
  });
  const history = await ask(bob, { action: 'history' });
  expect((history.messages as Frame[]).find((m) => m.seq === ack.seq)?.mentions).toEqual([
    'bob',
    'ana maria',
  ]);

  // A marker after the mention: nobody else was told, not Carol (named but not in the room), not Bob's device in the
  // room (it has the message), not Ana.
  await ask(ana, { action: 'sendmessage', message: 'marker' });
  await bob.next(isMessage('marker'));
  // Every fan-out over and its frames arrived: a mention anyone would have been sent is there by now.
  await settle();
  for (const client of [ana, bob, anaMaria, carol])
    expect(client.frames.filter((f) => f.type === 'mention')).toEqual([]);
  expect(bobPhone.frames.filter((f) => f.type === 'mention')).toHaveLength(1);
});

it('a message without a member named carries no mentions', async () => {
  const {
    devices: [ana, bob],
  } = await roomOf('ana', 'bob');
  for (const text of ['mail me at ana@example.com', '@ nobody', '@bobcat is a cat', 'no at sign']) {
    await ask(ana, { action: 'sendmessage', message: text });
    expect((await bob.next(isMessage(text))).mentions).toBeUndefined();
  }
});

it("counts a member's unread messages that name it beside unread in myrooms, by identity", async () => {
  const {
    roomId,
    devices: [ana, bob],
  } = await roomOf('ana', 'bob');
  for (const text of ['@bob first', 'no name here', 'again @Bob', '@ana talking to myself'])
    await ask(ana, { action: 'sendmessage', message: text });
  const rooms = (await ask(bob, { action: 'myrooms' })).rooms as Frame[];
  expect(rooms.find((r) => r.roomId === roomId)).toMatchObject({ unread: 4, mentions: 2 });
  const anas = (await ask(ana, { action: 'myrooms' })).rooms as Frame[];
  expect(anas.find((r) => r.roomId === roomId)?.mentions).toBeUndefined();
});

it("names the room in a mention's notice when it has a name, and leaves its code alone when it has none", async () => {
  const [ana, bob] = [await device('ana'), await device('bob')];
  // Bob's phone shows no room and has listed none: it hears of each mention by a `mention` frame.
  const bobPhone = await device('bob');
  const named = await ask(ana, { action: 'createroom', name: 'Night owls' });
  await ask(bob, { action: 'joinroom', roomId: named.roomId, key: named.inviteKey });
  await ask(ana, { action: 'sendmessage', message: '@bob owls?' });
  expect(await bobPhone.next((f) => f.type === 'mention' && f.roomId === named.roomId)).toMatchObject({
    name: 'Night owls',
    text: '@bob owls?',
  });

  // Both move to a room without a name: its notice carries none (the page shows the room's code).
  const unnamed = await ask(ana, { action: 'createroom' });
  await ask(bob, { action: 'joinroom', roomId: unnamed.roomId, key: unnamed.inviteKey });
  await ask(ana, { action: 'sendmessage', message: '@bob no name' });
  const plain = await bobPhone.next((f) => f.type === 'mention' && f.roomId === unnamed.roomId);
  expect(plain.text).toBe('@bob no name');
  expect(plain).not.toHaveProperty('name');
});
