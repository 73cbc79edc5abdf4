import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * One person, many devices, each following at once what the person does on another, through the local cloud with
 * sign-in:
 * - a direct message the person opens on the laptop comes into its phone's rooms at once (`myroom` with `dm`), only
 *   when the membership is new: reopening it tells nothing;
 * - a thread marked read on the laptop (`threadread`: its pane stayed open while a reply came) reads so on the phone
 *   (the same frame pushed) and in `mythreads` everywhere; only a thread the person follows is marked, and bad input
 *   is refused with its own sentence.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '100000', SendRateLimit: '1000', MentionNoticeSeconds: '0' });
const { device, ask, settle } = chat;
const PATIENCE_MS = 90_000;

const pushed = (type: string) => (f: Frame) => f.type === type && f.requestId === undefined;

it("lists a DM opened on the laptop in the phone's rooms at once, once", async () => {
  const laptop = await device('ana');
  const phone = await device('ana');
  const bob = await device('bob');
  const created = await ask(laptop, { action: 'createroom' });
  await ask(bob, { action: 'joinroom', roomId: created.roomId, key: created.inviteKey });

  const opened = await ask(laptop, { action: 'opendm', username: 'bob' });
  expect(opened.type).toBe('joined');
  const dmRoom = String(opened.roomId);
  // (The room created first was pushed to the phone too: `myroom` of another room.)
  const ofDm = (f: Frame) => pushed('myroom')(f) && f.roomId === dmRoom;
  const told = await phone.next(ofDm, PATIENCE_MS, 'the DM opened on the laptop');
  expect(told).toEqual({
    type: 'myroom',
    roomId: dmRoom,
    room: {
      roomId: dmRoom,
      lastSeq: opened.lastSeq,
      lastReadSeq: opened.lastSeq,
      unread: 0,
      activeAt: expect.any(Number),
      dm: opened.dm,
    },
  });
  expect((told.room as { dm: { username?: string } }).dm.username).toBe('bob');

  // Reopened on the laptop, and opened on the phone: the person lists it already, so nobody is told again.
  const bobId = (opened.dm as { userId: string }).userId;
  expect(await ask(laptop, { action: 'opendm', userId: bobId })).toMatchObject({
    type: 'joined',
    roomId: dmRoom,
  });
  expect(await ask(phone, { action: 'opendm', userId: bobId })).toMatchObject({
    type: 'joined',
    roomId: dmRoom,
  });
  await settle();
  expect(phone.frames.filter(ofDm)).toHaveLength(1);
  expect(laptop.frames.filter(ofDm)).toEqual([]);
  // Bob hears of it as the other member (`dmopened`), never as `myroom`.
  expect(bob.frames.filter(ofDm)).toEqual([]);
});

it('marks a followed thread read on every device of the person, and refuses a thread it cannot mark', async () => {
  const laptop = await device('cleo');
  const phone = await device('cleo');
  const dan = await device('dan');
  const eve = await device('eve');
  const created = await ask(laptop, { action: 'createroom' });
  const roomId = String(created.roomId);
  for (const member of [phone, dan, eve])
    await ask(member, { action: 'joinroom', roomId, key: created.inviteKey });

  // Cleo wrote the root: Dan's reply is unread for her on both devices.
  const root = await ask(laptop, { action: 'sendmessage', message: 'picnic on sunday?' });
  const seq = Number(root.seq);
  const reply = await ask(dan, { action: 'sendmessage', message: 'count me in', threadOf: seq });
  const unreadOn = async (client: typeof phone) =>
    ((await ask(client, { action: 'mythreads' })).threads as Frame[]).map((t) => [t.seq, t.unread]);
  expect(await unreadOn(phone)).toEqual([[seq, 1]]);

  // Her laptop's pane was open as it came: marked read there, told to the phone, and so in mythreads on both.
  const mark = phone.mark();
  expect(await ask(laptop, { action: 'threadread', seq })).toMatchObject({
    type: 'threadread',
    roomId,
    seq,
    readCount: 1,
  });
  expect(await phone.next(pushed('threadread'), PATIENCE_MS, 'the laptop’s mark')).toEqual({
    type: 'threadread',
    roomId,
    seq,
    readCount: 1,
  });
  expect(await unreadOn(phone)).toEqual([[seq, 0]]);
  expect(await unreadOn(laptop)).toEqual([[seq, 0]]);
  // A reply after the mark is unread again.
  await ask(dan, { action: 'sendmessage', message: 'bringing lemonade', threadOf: seq });
  expect(await unreadOn(phone)).toEqual([[seq, 1]]);

  // Eve follows nothing here; a reply is no thread; bad seqs: each refused in words, nothing written or told.
  const refusals = [
    await ask(eve, { action: 'threadread', seq }),
    await ask(laptop, { action: 'threadread', seq: reply.seq }),
    await ask(laptop, { action: 'threadread', seq: 'first' }),
    await ask(laptop, { action: 'threadread', seq: 999_999 }),
  ];
  expect(refusals.map((r) => [r.type, r.code])).toEqual([
    ['error', 'BAD_REQUEST'],
    ['error', 'BAD_REQUEST'],
    ['error', 'BAD_REQUEST'],
    ['error', 'MESSAGE_NOT_FOUND'],
  ]);
  expect(refusals[0]?.message).toBe(
    `You don't follow the thread of message ${seq}: only a thread you follow is marked read.`,
  );
  expect(await unreadOn(eve)).toEqual([]);
  await settle();
  expect(phone.since(mark).filter(pushed('threadread'))).toHaveLength(1);
  expect(dan.frames.filter((f) => f.type === 'threadread')).toEqual([]);
});
