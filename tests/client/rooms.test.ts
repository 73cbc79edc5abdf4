import type { RoomcastClientOptions } from '../../client';
import { HISTORY_PACE_MS, INDEX_LAG_MS, LIMITS, Room } from '../../client';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * `client.rooms`: one connection follows many rooms (docs/CLIENT.md, "Many rooms"). Each room's object has its own
 * events and actions naming the room; unread counts live; a reconnect resubscribes every room in one frame.
 */
const fake = fakeServerPerTest();

/** A client in rooms AAAAAAAA, then BBBBBBBB (on screen), both followed. */
async function inTwoRooms(options: Partial<RoomcastClientOptions> = {}) {
  fake.server.rooms.set('AAAAAAAA', []);
  fake.server.rooms.set('BBBBBBBB', []);
  const chat = fake.client(options);
  await tick();
  const joinA = chat.join('AAAAAAAA');
  await tick();
  await joinA;
  const joinB = chat.join('BBBBBBBB');
  await tick();
  await joinB;
  return chat;
}

it("hands a followed room's messages to its room object, not to the client's (the room on screen's)", async () => {
  const chat = await inTwoRooms();
  const a = chat.rooms.get('aaaaaaaa');
  expect(chat.rooms.get('AAAAAAAA')).toBe(a); // one object per room
  expect(chat.rooms.followed).toEqual(['AAAAAAAA', 'BBBBBBBB']);
  const inA: string[] = [];
  const onScreen: string[] = [];
  const inB: string[] = [];
  a.on('message', (m) => inA.push(m.text));
  chat.rooms.get('BBBBBBBB').on('message', (m) => inB.push(m.text));
  chat.on('message', (m) => onScreen.push(m.text));
  fake.server.store('AAAAAAAA', 'to A');
  fake.server.store('BBBBBBBB', 'to B');
  fake.server.last.push(fake.server.rooms.get('AAAAAAAA')?.[0] ?? {}); // the same message again: once
  await tick();
  expect(inA).toEqual(['to A']);
  expect(inB).toEqual(['to B']);
  expect(onScreen).toEqual(['to B']);
});

it('counts unread per room live: messages from others, not its own, edits, deletes or reactions', async () => {
  const chat = await inTwoRooms();
  const a = chat.rooms.get('AAAAAAAA');
  const told: number[] = [];
  a.on('unread', ({ unread }) => told.push(unread));
  fake.server.store('AAAAAAAA', 'one', 'bob');
  fake.server.store('AAAAAAAA', 'two', 'bob');
  await tick();
  expect(a.unread).toBe(2);
  // Its own message in A, sent while B is on screen: named A, stored in A, never unread.
  const ack = a.send('mine');
  await tick();
  await expect(ack).resolves.toMatchObject({ roomId: 'AAAAAAAA', seq: 3 });
  expect(fake.server.sent('sendmessage').at(-1)).toMatchObject({ roomId: 'AAAAAAAA', message: 'mine' });
  expect(fake.server.rooms.get('BBBBBBBB')).toEqual([]);
  for (const type of ['edited', 'reaction', 'deleted'])
    fake.server.toRoom('AAAAAAAA', { type, roomId: 'AAAAAAAA', seq: 4 + told.length, targetSeq: 3 });
  await tick();
  expect(a.unread).toBe(2);
  expect(told).toEqual([1, 2]);
  // Read in A while B stays on screen: the markread names A.
  const read = a.markRead(2);
  await tick();
  await read;
  expect(fake.server.sent('markread').at(-1)).toMatchObject({ roomId: 'AAAAAAAA', seq: 2 });
  expect(a.unread).toBe(0);
  expect(told).toEqual([1, 2, 0]);
});

it('resubscribes every followed room in ONE frame after a reconnect, each after its last seq, and misses nothing', async () => {
  fake.server.rooms.set('CCCCCCCC', []);
  const chat = await inTwoRooms();
  const subscribing = chat.rooms.subscribe(['CCCCCCCC']);
  await tick();
  await subscribing;
  expect(chat.rooms.followed).toEqual(['AAAAAAAA', 'BBBBBBBB', 'CCCCCCCC']);
  fake.server.store('AAAAAAAA', 'a1', 'bob');
  fake.server.store('CCCCCCCC', 'c1', 'bob');
  await tick();
  const inA: string[] = [];
  const inC: string[] = [];
  chat.rooms.get('AAAAAAAA').on('message', (m) => inA.push(m.text));
  chat.rooms.get('CCCCCCCC').on('message', (m) => inC.push(m.text));
  const before = fake.server.sent('subscribe').length;

  fake.server.last.drop();
  fake.server.fanOut = false; // said while the client is away
  fake.server.store('AAAAAAAA', 'a2', 'bob');
  fake.server.store('CCCCCCCC', 'c2', 'bob');
  fake.server.store('CCCCCCCC', 'c3', 'bob');
  fake.server.fanOut = true;
  await jest.advanceTimersByTimeAsync(1_000);

  expect(chat.state).toBe('ready');
  const subscribes = fake.server.sent('subscribe').slice(before);
  expect(subscribes).toHaveLength(1);
  // B is on screen: the session rejoined it; the others come back in one frame, each after its last seq.
  expect(subscribes[0]?.rooms).toEqual([
    { roomId: 'AAAAAAAA', key: 'AAAAAAAA-invitekey', afterSeq: 1 },
    { roomId: 'CCCCCCCC', afterSeq: 1 },
  ]);
  expect(inA).toEqual(['a2']);
  expect(inC).toEqual(['c2', 'c3']);
  expect(chat.rooms.get('CCCCCCCC').unread).toBe(3);
  // Still followed on the new connection: live again.
  fake.server.store('CCCCCCCC', 'c4', 'bob');
  await tick();
  expect(inC).toEqual(['c2', 'c3', 'c4']);
});

it('fetches what a resubscribe left out (hasMore) one page per HISTORY_PACE_MS, within the frame guard', async () => {
  fake.server.rooms.set('CCCCCCCC', []);
  fake.server.rooms.set('DDDDDDDD', []);
  const chat = await inTwoRooms();
  const subscribing = chat.rooms.subscribe(['CCCCCCCC', 'DDDDDDDD']);
  await tick();
  await subscribing;
  const got = new Map<string, number[]>();
  for (const id of ['AAAAAAAA', 'CCCCCCCC', 'DDDDDDDD'])
    chat.rooms.get(id).on('message', (m) => got.set(id, [...(got.get(id) ?? []), m.seq]));
  fake.server.last.drop();
  fake.server.fanOut = false;
  for (let i = 1; i <= 5; i++)
    for (const id of ['AAAAAAAA', 'CCCCCCCC', 'DDDDDDDD']) fake.server.store(id, `${id} ${i}`, 'bob');
  fake.server.fanOut = true;
  fake.server.pageSize = 2; // a reply holds 2 events: the rest is for `history`
  // The room on screen (B) is the session's, whose `history` names no room: besides its rejoin it asks once for what
  // came after, INDEX_LAG_MS later (a quiet room). The followed rooms' pages, each naming its room, are counted here.
  const followedHistories = () => fake.server.sent('history').filter((f) => f.roomId !== undefined).length;
  const histories = followedHistories();
  const allBefore = fake.server.sent('history').length;
  await jest.advanceTimersByTimeAsync(1_000);
  expect(chat.state).toBe('ready');
  for (const id of ['AAAAAAAA', 'CCCCCCCC', 'DDDDDDDD']) expect(got.get(id)).toEqual([1, 2]);

  // Then one history page per HISTORY_PACE_MS, never a burst: 6 pages over 12 s.
  const asked: number[] = [];
  for (let s = 0; s < 8; s++) {
    await jest.advanceTimersByTimeAsync(HISTORY_PACE_MS);
    asked.push(followedHistories() - histories);
  }
  expect(asked).toEqual([1, 2, 3, 4, 5, 6, 6, 6]);
  // Every page names its room, but the room on screen's one ask after the index lag.
  expect(
    fake.server
      .sent('history')
      .slice(allBefore)
      .filter((f) => f.roomId === undefined),
  ).toHaveLength(1);
  for (const id of ['AAAAAAAA', 'CCCCCCCC', 'DDDDDDDD']) expect(got.get(id)).toEqual([1, 2, 3, 4, 5]);
});

it('on a fresh start asks myrooms, then follows every listed room in ONE subscribe, and counts their unread live', async () => {
  fake.server.rooms.set('AAAAAAAA', [
    { type: 'message', roomId: 'AAAAAAAA', seq: 1, messageId: 'm1', username: 'bob', text: 'x', sentAt: '' },
  ]);
  fake.server.rooms.set('DDDDDDDD', []);
  fake.server.myRooms = [
    { roomId: 'AAAAAAAA', lastSeq: 1, lastReadSeq: 0, unread: 1, inviteKey: 'AAAAAAAA-invitekey' },
    { roomId: 'DDDDDDDD', lastSeq: 0, lastReadSeq: 0, unread: 0, dm: { userId: 'u-bob', username: 'bob' } },
    { roomId: 'GXNEGXNE', lastSeq: 3, lastReadSeq: 3, unread: 0 },
  ];
  const chat = fake.client({ trackRooms: true });
  await jest.advanceTimersByTimeAsync(100);
  const actions = fake.server.received.map((f) => f.action);
  expect(actions.filter((a) => a === 'myrooms')).toHaveLength(1);
  expect(actions.filter((a) => a === 'subscribe')).toHaveLength(1);
  expect(actions.indexOf('myrooms')).toBeLessThan(actions.indexOf('subscribe'));
  expect(fake.server.sent('subscribe')[0]?.rooms).toEqual([
    { roomId: 'AAAAAAAA', key: 'AAAAAAAA-invitekey', afterSeq: 1 },
    { roomId: 'DDDDDDDD', afterSeq: 0 },
    { roomId: 'GXNEGXNE', afterSeq: 3 },
  ]);
  // The refused room is not followed; the lobby is on screen.
  expect(chat.rooms.followed).toEqual(['AAAAAAAA', 'DDDDDDDD']);
  const a = chat.rooms.get('AAAAAAAA');
  const dm = chat.rooms.get('DDDDDDDD');
  expect(a.unread).toBe(1);
  fake.server.store('AAAAAAAA', 'again', 'bob');
  fake.server.store('DDDDDDDD', 'psst', 'bob');
  await tick();
  expect([a.unread, dm.unread]).toEqual([2, 1]);
  expect(chat.rooms.list.map((r) => r.unread)).toEqual([2, 1, 0]);
  // No polling: an hour later still one myrooms.
  await jest.advanceTimersByTimeAsync(60 * 60_000);
  expect(fake.server.sent('myrooms')).toHaveLength(1);
});

it('follows a direct message opened to it at once (dmopened), so its messages count live', async () => {
  fake.server.rooms.set('DDDDDDDD', []);
  const chat = fake.client({ trackRooms: true });
  await tick(100);
  fake.server.last.push({
    type: 'dmopened',
    room: {
      roomId: 'DDDDDDDD',
      lastSeq: 0,
      lastReadSeq: 0,
      unread: 0,
      dm: { userId: 'u-bob', username: 'bob' },
    },
  });
  await tick();
  expect(fake.server.sent('subscribe').at(-1)?.rooms).toEqual([{ roomId: 'DDDDDDDD', afterSeq: 0 }]);
  expect(chat.rooms.followed).toEqual(['DDDDDDDD']);
  fake.server.store('DDDDDDDD', 'hi', 'bob');
  await tick();
  expect(chat.rooms.get('DDDDDDDD').unread).toBe(1);
  expect(chat.rooms.list[0]).toMatchObject({ roomId: 'DDDDDDDD', unread: 1 });
});

it("lowers a room's count when another device of this person read it (a pushed read), and sends no lower read", async () => {
  const seqs = [1, 2, 3].map((seq) => ({
    type: 'message' as const,
    roomId: 'DDDDDDDD',
    seq,
    messageId: `m${seq}`,
    username: 'bob',
    text: `n${seq}`,
    sentAt: '',
  }));
  fake.server.rooms.set('DDDDDDDD', seqs);
  fake.server.myRooms = [{ roomId: 'DDDDDDDD', lastSeq: 3, lastReadSeq: 0, unread: 3 }];
  const chat = fake.client({ trackRooms: true });
  await jest.advanceTimersByTimeAsync(100);
  const dm = chat.rooms.get('DDDDDDDD');
  expect(dm.unread).toBe(3);
  const told: unknown[] = [];
  const counts: number[] = [];
  chat.rooms.on('read', (frame) => told.push(frame));
  dm.on('unread', ({ unread }) => counts.push(unread));
  // A malformed one changes nothing; the answer to one of this client's own requests is no pushed read.
  fake.server.last.push({ type: 'read', roomId: 'DDDDDDDD', lastReadSeq: 'all' });
  fake.server.last.push({ type: 'read', roomId: 'DDDDDDDD', lastReadSeq: 3, requestId: 'not-ours' });
  await tick();
  expect([dm.unread, told]).toEqual([3, []]);

  fake.server.last.push({ type: 'read', roomId: 'DDDDDDDD', lastReadSeq: 2 });
  await tick();
  expect(told).toEqual([{ type: 'read', roomId: 'DDDDDDDD', lastReadSeq: 2 }]);
  expect(counts).toEqual([1]);
  expect(chat.rooms.list[0]).toMatchObject({ roomId: 'DDDDDDDD', lastReadSeq: 2, unread: 1 });
  // The server holds 2 already: marking up to it sends nothing; past it, one markread.
  await chat.rooms.markRead(2, 'DDDDDDDD');
  expect(fake.server.sent('markread')).toHaveLength(0);
  fake.server.last.push({ type: 'read', roomId: 'DDDDDDDD', lastReadSeq: 3 });
  await tick();
  expect([dm.unread, chat.rooms.list[0]?.unread]).toEqual([0, 0]);
});

it(`follows at most ${LIMITS.subscriptionsMax} rooms: the rest are refused TOO_MANY_ROOMS without being sent`, async () => {
  const chat = await inTwoRooms();
  const letters = 'CDEFGHJK';
  const ids = Array.from(
    { length: 120 },
    (_, i) => `RM${letters[i % 8]}${letters[(i >> 3) % 8]}${letters[i >> 6]}XYZ`,
  );
  for (const id of ids) fake.server.rooms.set(id, []);
  const answer = chat.rooms.subscribe(ids);
  await tick();
  const { rooms, refused } = await answer;
  expect(rooms).toHaveLength(LIMITS.subscriptionsMax - 2);
  expect(refused).toHaveLength(22);
  expect(refused[0]).toMatchObject({ roomId: ids[98], code: 'TOO_MANY_ROOMS' });
  expect(fake.server.sent('subscribe').at(-1)?.rooms).toHaveLength(98);
  expect(chat.rooms.followed).toHaveLength(LIMITS.subscriptionsMax);
});

it('leaves one followed room by name; its messages stop, the room on screen stays', async () => {
  const chat = await inTwoRooms();
  const a = chat.rooms.get('AAAAAAAA');
  const inA: string[] = [];
  a.on('message', (m) => inA.push(m.text));
  const left = a.leave();
  await tick();
  await expect(left).resolves.toMatchObject({ type: 'left', roomId: 'AAAAAAAA' });
  expect(fake.server.sent('leaveroom').at(-1)).toMatchObject({ roomId: 'AAAAAAAA' });
  expect(chat.roomId).toBe('BBBBBBBB');
  expect(chat.rooms.followed).toEqual(['BBBBBBBB']);
  fake.server.store('AAAAAAAA', 'after', 'bob');
  await tick();
  expect(inA).toEqual([]);
});

it("hands typing and presence frames to their room's object, and its actions name the room", async () => {
  const chat = await inTwoRooms();
  const a = chat.rooms.get('AAAAAAAA');
  const heard: string[] = [];
  a.on('typing', (t) => heard.push(`typing ${t.username}`));
  a.on('presence', (p) => heard.push(`${p.event} ${p.username}`));
  fake.server.last.push({
    type: 'typing',
    roomId: 'AAAAAAAA',
    username: 'bob',
    typing: true,
    expiresInMs: 7000,
  });
  fake.server.last.push({ type: 'presence', roomId: 'AAAAAAAA', event: 'join', username: 'carol' });
  fake.server.last.push({ type: 'presence', roomId: 'BBBBBBBB', event: 'join', username: 'dan' });
  await tick();
  expect(heard).toEqual(['typing bob', 'join carol']);
  expect(a.typing()).toBe(true);
  expect(a.typing()).toBe(false); // once per heartbeat
  expect(fake.server.sent('typing').at(-1)).toMatchObject({ roomId: 'AAAAAAAA' });
  fake.server.store('AAAAAAAA', 'hello', 'bob');
  await tick();
  const history = a.history({ afterSeq: 0 });
  await tick();
  await expect(history).resolves.toMatchObject({ roomId: 'AAAAAAAA', messages: [{ text: 'hello' }] });
  expect(chat.roomId).toBe('BBBBBBBB');
});

it("hands a followed room's message that came while another room was being created to that room", async () => {
  const chat = await inTwoRooms();
  const inA: string[] = [];
  chat.rooms.get('AAAAAAAA').on('message', (m) => inA.push(m.text));
  // Posted in A just before the createroom reply: the client holds it until it knows the new room's code.
  fake.server.intercept = (frame) => {
    if (frame.action === 'createroom') fake.server.store('AAAAAAAA', 'during the create', 'bob');
    return undefined;
  };
  const created = chat.createRoom();
  await tick();
  await created;
  expect(chat.roomId).not.toBe('AAAAAAAA');
  expect(inA).toEqual(['during the create']);
  expect(chat.rooms.get('AAAAAAAA').unread).toBe(1);
});

it('hands each seq over once, also past the seqs it remembers, however often events come again', () => {
  const room = new Room('AAAAAAAA', {} as ConstructorParameters<typeof Room>[1]);
  const seqs: number[] = [];
  room.on('message', (m) => seqs.push(m.seq));
  const events = Array.from({ length: 1500 }, (_, i) => ({
    type: 'message' as const,
    roomId: 'AAAAAAAA',
    seq: i + 1,
    messageId: `m${i + 1}`,
    username: 'bob',
    text: 'x',
    sentAt: '',
  }));
  room.deliver(events);
  room.deliver(events); // a resubscribe or a history page brings them again
  room.deliver(events.slice(700, 800));
  expect(seqs).toEqual(events.map((e) => e.seq));
  expect(room.lastSeq).toBe(1500);
});

it('takes a memberschanged frame (a cycle of joins and leaves) as its presence changes, in order, on screen and off', async () => {
  const chat = await inTwoRooms();
  const inA: string[] = [];
  chat.rooms.get('AAAAAAAA').on('presence', (p) => inA.push(`${p.event} ${p.username}`));
  const onScreen: string[] = [];
  chat.on('presence', (p) =>
    onScreen.push(`${p.event} ${p.username}${p.reason === undefined ? '' : ` (${p.reason})`}`),
  );
  fake.server.last.push({
    type: 'memberschanged',
    roomId: 'AAAAAAAA',
    changes: [
      { event: 'join', username: 'carol' },
      { event: 'join', username: 'dan' },
      { event: 'leave', username: 'carol' },
    ],
  });
  fake.server.last.push({
    type: 'memberschanged',
    roomId: 'BBBBBBBB',
    changes: [
      { event: 'join', username: 'erin' },
      { event: 'join', username: 'frank' },
      // A ban's leave says so; a reason the protocol does not name is left out.
      { event: 'leave', username: 'gus', reason: 'banned' },
      { event: 'leave', username: 'hal', reason: 'bored' },
    ],
  });
  await tick();
  expect(inA).toEqual(['join carol', 'join dan', 'leave carol']);
  expect(onScreen).toEqual(['join erin', 'join frank', 'leave gus (banned)', 'leave hal']);
  expect(chat.members).toEqual(expect.arrayContaining(['erin', 'frank']));
});

it("moves the shown room's count by a big room's counted joins and leaves, with no presence line", async () => {
  const chat = await inTwoRooms();
  const lines: string[] = [];
  chat.on('presence', (p) => lines.push(`${p.event} ${p.username}`));
  const counts: (number | undefined)[] = [];
  chat.on('members', (m) => {
    if (m.counted) counts.push(m.memberCount);
  });
  // A room that has held more than 100 members: each turn's changes as counts alone.
  fake.server.last.push({ type: 'memberschanged', roomId: 'BBBBBBBB', changes: [], joined: 50 });
  fake.server.last.push({ type: 'memberschanged', roomId: 'BBBBBBBB', changes: [], joined: 3, left: 10 });
  // Another room's counts do not move the shown room's.
  fake.server.last.push({ type: 'memberschanged', roomId: 'AAAAAAAA', changes: [], joined: 7 });
  await tick();
  expect(lines).toEqual([]);
  // The joined reply counted 1 member (the fake server's): 1 + 50, then + 3 − 10.
  expect(counts).toEqual([51, 44]);
});

it('asks a quiet room once, INDEX_LAG_MS after joining or following it, for a message the room index lag kept away', async () => {
  fake.server.rooms.set('CCCCCCCC', []);
  const chat = await inTwoRooms();
  const following = chat.rooms.subscribe(['CCCCCCCC']);
  await tick();
  await following;
  const onScreen: string[] = [];
  chat.on('message', (m) => onScreen.push(m.text));
  const inC: string[] = [];
  chat.rooms.get('CCCCCCCC').on('message', (m) => inC.push(m.text));
  // Stored but fanned out before this connection was in the room's index: never posted to it.
  fake.server.fanOut = false;
  fake.server.store('BBBBBBBB', 'on screen, during the lag', 'bob');
  fake.server.store('CCCCCCCC', 'followed, during the lag', 'bob');
  fake.server.fanOut = true;
  const subscribes = fake.server.sent('subscribe').length;
  await jest.advanceTimersByTimeAsync(INDEX_LAG_MS + 100);
  expect(onScreen).toEqual(['on screen, during the lag']);
  expect(inC).toEqual(['followed, during the lag']);
  expect(fake.server.sent('subscribe').slice(subscribes)).toEqual([
    expect.objectContaining({ rooms: [{ roomId: 'CCCCCCCC', afterSeq: 0 }] }),
  ]);
  // A room that brought something since is left alone: its next message reveals any hole.
  const asked = fake.server.sent('history').length + fake.server.sent('subscribe').length;
  const joining = chat.join('AAAAAAAA');
  await tick();
  await joining;
  fake.server.store('AAAAAAAA', 'live', 'bob');
  await jest.advanceTimersByTimeAsync(INDEX_LAG_MS + 100);
  expect(fake.server.sent('history').length + fake.server.sent('subscribe').length).toBe(asked);
});
