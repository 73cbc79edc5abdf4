import { type Frame, isMessage, isPresence } from '../helpers/chatClient';
import {
  connect,
  connectionItem,
  createRoom,
  joinRoom,
  range,
  say,
  subscriptionItem,
  useChatCloud,
} from '../helpers/chatWorld';

/**
 * `subscribe` (issue 43; docs/PROTOCOL.md): many rooms followed in one frame, none shown, each admitted as joinroom
 * would admit it, each resumed from the seq the client had; bad frames refused whole before anything is read.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

type Subscribed = { roomId: string; lastSeq: number; memberCount: number; events: Frame[]; hasMore: boolean };
const roomsOf = (reply: Frame) => reply.rooms as Subscribed[];

const setRoomCount = (connectionId: string, count: number): Promise<void> =>
  world.setNumber('ConnectionsTable', { connectionId }, 'subscriptionCount', count);

it('follows three rooms in one frame, shows none of them, and gets live messages from each', async () => {
  const owners = await Promise.all(['ow-1', 'ow-2', 'ow-3'].map((name) => connect(name)));
  const rooms = await Promise.all(owners.map((o) => createRoom(o)));
  const keys = await Promise.all(
    owners.map(async (o) => (await o.expectReply({ action: 'rotatekey' })).inviteKey as string),
  );
  const alice = await connect('alice-sub');
  const reply = await alice.expectReply({
    action: 'subscribe',
    rooms: rooms.map((roomId, i) => ({ roomId: roomId.toLowerCase(), key: keys[i] })),
    requestId: 'sub-1',
  });
  expect(reply).toMatchObject({ type: 'subscribed', refused: [], requestId: 'sub-1' });
  expect(roomsOf(reply).map((r) => r.roomId)).toEqual(rooms);
  for (const r of roomsOf(reply))
    expect(r).toMatchObject({ lastSeq: 0, memberCount: 2, events: [], hasMore: false });
  // Each room heard her join, as a join would tell it.
  await Promise.all(owners.map((o, i) => o.next(isPresence(rooms[i] as string, 'join', 'alice-sub'))));
  // She still shows the lobby; she follows three rooms.
  const id = await alice.connectionId();
  const item = await connectionItem(id);
  expect(item?.roomId?.S).toBe('lobby');
  expect(item?.subscriptionCount?.N).toBe('3');
  // Live messages from each room, named by their room.
  await Promise.all(owners.map((o, i) => say(o, `hello from ${i}`)));
  await Promise.all(rooms.map((roomId, i) => alice.next(isMessage(roomId, `hello from ${i}`))));
  // And she may speak in any of them by naming it.
  const ack = await alice.expectReply({ action: 'sendmessage', roomId: rooms[1], message: 'hi two' });
  expect(ack.roomId).toBe(rooms[1]);
  await owners[1]?.next(isMessage(rooms[1] as string, 'hi two'));

  // The same frame again is harmless: answered as it stands, nothing written, nobody told twice.
  const marks = owners.map((o) => o.mark());
  const again = await alice.expectReply({ action: 'subscribe', rooms: rooms.map((roomId) => ({ roomId })) });
  expect(again.refused).toEqual([]);
  expect(roomsOf(again).map((r) => [r.roomId, r.lastSeq])).toEqual([
    [rooms[0], 1],
    [rooms[1], 2],
    [rooms[2], 1],
  ]);
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('3');
  // Every fan-out over and its frames arrived: a presence frame it would have sent is there by now.
  await world.test.settle();
  owners.forEach((o, i) => {
    expect(o.since(marks[i] as number).some((f) => f.type === 'presence')).toBe(false);
  });
});

it('resumes each room after the seq the client had: exactly the events it missed, oldest first', async () => {
  const bob = await connect('bob-res');
  const roomA = await createRoom(bob);
  const carol = await connect('carol-res');
  const roomB = await createRoom(carol);
  const quiet = await createRoom(await connect('quiet-res'));
  const alice = await connect('alice-res');
  await joinRoom(alice, roomA, [bob]);
  await joinRoom(alice, roomB, [carol]);
  await say(bob, 'a1');
  await say(carol, 'b1');
  await alice.next(isMessage(roomA, 'a1'));
  await alice.next(isMessage(roomB, 'b1'));
  const seenA = alice.messages(roomA).at(-1)?.seq as number;
  const seenB = alice.messages(roomB).at(-1)?.seq as number;
  await alice.close();

  // While she is away: three in A (one of them edited), two in B.
  for (const text of ['a2', 'a3', 'a4']) await say(bob, text);
  const edited = await say(bob, 'a5 typo');
  await bob.expectReply({ action: 'editmessage', seq: edited.seq, message: 'a5' });
  for (const text of ['b2', 'b3']) await say(carol, text);

  const back = await connect('alice-res');
  // A room answered BUSY (a loaded machine) is asked again, as the client library does (PROTOCOL: refused `BUSY`).
  let asked: Frame[] = [
    { roomId: roomA, afterSeq: seenA },
    { roomId: roomB, afterSeq: seenB },
    { roomId: quiet, afterSeq: 0 },
  ];
  const got = new Map<string, Subscribed>();
  for (let attempt = 0; attempt < 4 && asked.length > 0; attempt++) {
    const reply = await back.expectReply({ action: 'subscribe', rooms: asked });
    for (const room of roomsOf(reply)) got.set(room.roomId, room);
    const busy = new Set(
      (reply.refused as Frame[]).filter((r) => r.code === 'BUSY').map((r) => String(r.roomId)),
    );
    expect((reply.refused as Frame[]).filter((r) => !busy.has(String(r.roomId)))).toEqual([]);
    asked = asked.filter((room) => busy.has(String(room.roomId)));
  }
  const [a, b, q] = [got.get(roomA), got.get(roomB), got.get(quiet)];
  // A's events: the four messages in their final state and the edit event, each after seenA, in seq order.
  expect(a?.events.map((e) => e.seq)).toEqual(range(seenA + 1, 5));
  expect(a?.events.filter((e) => e.type === 'message').map((e) => e.text)).toEqual(['a2', 'a3', 'a4', 'a5']);
  expect(a?.events.at(-1)?.type).toBe('edited');
  expect(a).toMatchObject({ lastSeq: seenA + 5, hasMore: false });
  expect(b?.events.map((e) => e.text)).toEqual(['b2', 'b3']);
  expect(b).toMatchObject({ lastSeq: seenB + 2, hasMore: false });
  expect(q).toMatchObject({ roomId: quiet, events: [], hasMore: false, lastSeq: 0 });
});

it('shares one reply budget among the rooms: what does not fit says hasMore, for history to fetch', async () => {
  const dan = await connect('dan-big');
  const roomA = await createRoom(dan);
  const roomB = await createRoom(dan);
  // 40 messages of ~4 KB in each room: 160 KB each, more than one reply holds.
  const text = (i: number) => `${String(i).padStart(3, '0')} ${'x'.repeat(4000)}`;
  await dan.expectReply({ action: 'joinroom', roomId: roomA });
  for (const i of range(1, 40)) await say(dan, text(i));
  await dan.expectReply({ action: 'joinroom', roomId: roomB });
  for (const i of range(1, 40)) await say(dan, text(i));
  // Both rooms in one reply: a frame the route answered BUSY for a room past its deadline (a loaded machine) is sent
  // again whole, from a new connection, as the client library asks again.
  let reply: Frame = {};
  let erin = await connect('erin-big');
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) erin = await connect(`erin-big${attempt}`);
    reply = await erin.expectReply({
      action: 'subscribe',
      rooms: [
        { roomId: roomA, afterSeq: 0 },
        { roomId: roomB, afterSeq: 0 },
      ],
    });
    const refused = reply.refused as Frame[];
    if (!refused.some((r) => r.code === 'BUSY')) break;
  }
  expect(reply.refused).toEqual([]);
  expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(120 * 1024);
  const [a, b] = roomsOf(reply);
  expect(a?.events.length).toBeGreaterThan(20);
  expect(a?.events.map((e) => e.seq)).toEqual(range(1, a?.events.length ?? 0));
  expect(a?.hasMore).toBe(true);
  expect(b).toMatchObject({ events: [], hasMore: true, lastSeq: 40 });
  // The rest comes with history, as hasMore says.
  const rest = await erin.expectReply({
    action: 'history',
    roomId: roomA,
    afterSeq: a?.events.at(-1)?.seq as number,
  });
  expect((rest.messages as Frame[])[0]?.seq).toBe((a?.events.length ?? 0) + 1);
});

it('refuses a room as joinroom would and still follows the others', async () => {
  const owner = await connect('own-ref');
  const open = await createRoom(owner);
  const keyed = await createRoom(owner);
  const key = (await owner.expectReply({ action: 'rotatekey' })).inviteKey as string;
  const wrongKeyed = await createRoom(owner);
  const closed = await createRoom(owner);
  await owner.expectReply({ action: 'closeroom' });
  const frank = await connect('frank-ref');
  const reply = await frank.expectReply({
    action: 'subscribe',
    rooms: [
      { roomId: 'ZZZZZZZZ' },
      { roomId: open },
      { roomId: keyed },
      { roomId: closed },
      { roomId: 'lobby' },
      { roomId: wrongKeyed, key },
    ],
  });
  expect(roomsOf(reply).map((r) => r.roomId)).toEqual([open]);
  const codes = Object.fromEntries((reply.refused as Frame[]).map((r) => [r.roomId, r.code]));
  expect(codes).toMatchObject({
    ZZZZZZZZ: 'ROOM_NOT_FOUND',
    [keyed]: 'ROOM_NOT_FOUND',
    [closed]: 'ROOM_CLOSED',
    lobby: 'BAD_REQUEST',
    [wrongKeyed]: 'ROOM_NOT_FOUND',
  });
  for (const r of reply.refused as Frame[]) expect(typeof r.message).toBe('string');
  const id = await frank.connectionId();
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('1');
  expect(await subscriptionItem(id, keyed)).toBeUndefined();
  // With the key, the keyed room is followed.
  const withKey = await frank.expectReply({ action: 'subscribe', rooms: [{ roomId: keyed, key }] });
  expect(withKey).toMatchObject({ refused: [], rooms: [{ roomId: keyed }] });
});

it('shows the name a join would give: numbered past a member who shows it', async () => {
  const first = await connect('gus-name');
  const room = await createRoom(first);
  const second = await connect('gus-name');
  await second.expectReply({ action: 'subscribe', rooms: [{ roomId: room }] });
  await first.next(isPresence(room, 'join', 'gus-name (2)'));
  const who = await second.expectReply({ action: 'who', roomId: room });
  expect([...(who.members as string[])].sort()).toEqual(['gus-name', 'gus-name (2)']);
});

it('refuses a bad frame whole, before following anything', async () => {
  const owner = await connect('own-bad');
  const roomA = await createRoom(owner);
  const roomB = await createRoom(owner);
  const hal = await connect('hal-bad');
  const id = await hal.connectionId();
  const bad: [string, unknown, string][] = [
    ['not a list', { roomId: roomA }, 'BAD_REQUEST'],
    ['empty', [], 'BAD_REQUEST'],
    ['over the limit', range(0, 101).map(() => ({ roomId: roomA })), 'BAD_REQUEST'],
    ['a room twice', [{ roomId: roomA }, { roomId: roomB }, { roomId: roomA.toLowerCase() }], 'BAD_REQUEST'],
    ['a bad code', [{ roomId: roomA }, { roomId: 'not a room' }], 'BAD_REQUEST'],
    ['a bad afterSeq', [{ roomId: roomA, afterSeq: -1 }], 'BAD_REQUEST'],
    ['a bad key', [{ roomId: roomA, key: 'short' }], 'BAD_REQUEST'],
  ];
  for (const [why, rooms, code] of bad) {
    const reply = await hal.ask({ action: 'subscribe', rooms });
    expect([why, reply.type, reply.code]).toEqual([why, 'error', code]);
  }
  // Following 99 rooms, two more are past the limit: refused whole, neither followed.
  await setRoomCount(id, 99);
  const over = await hal.ask({ action: 'subscribe', rooms: [{ roomId: roomA }, { roomId: roomB }] });
  expect(over).toMatchObject({ type: 'error', code: 'TOO_MANY_ROOMS' });
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('99');
  expect(await subscriptionItem(id, roomA)).toBeUndefined();
  expect(await subscriptionItem(id, roomB)).toBeUndefined();
  // One more is within it.
  const one = await hal.expectReply({ action: 'subscribe', rooms: [{ roomId: roomA }] });
  expect(one).toMatchObject({ refused: [], rooms: [{ roomId: roomA }] });
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('100');
  // A refused room gives its count back.
  await setRoomCount(id, 98);
  const mixed = await hal.expectReply({
    action: 'subscribe',
    rooms: [{ roomId: roomB }, { roomId: 'ZZZZZZZZ' }],
  });
  expect(mixed.refused).toEqual([expect.objectContaining({ roomId: 'ZZZZZZZZ', code: 'ROOM_NOT_FOUND' })]);
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('99');
});
