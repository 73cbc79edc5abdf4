import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type Frame, isMessage, isPresence } from '../helpers/chatClient';
import {
  connect,
  connectionItem,
  createRoom,
  joinRoom,
  say,
  subscriptionItem,
  useChatCloud,
} from '../helpers/chatWorld';

/**
 * One connection, many rooms (issue 43 item 1; docs/ARCHITECTURE.md, "Subscriptions"): a join or create shows the
 * new room and keeps following the rooms shown before (not the lobby), `leaveroom {roomId}` ends one of them only,
 * a connection follows 100 rooms at most (TOO_MANY_ROOMS), and $disconnect tells each room it followed.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

it("a connection showing room A still gets room B's messages, with B's roomId, until it leaves B", async () => {
  const alice = await connect('alice-many');
  const roomB = await createRoom(alice);
  const bob = await connect('bob-many');
  await joinRoom(bob, roomB, [alice]);
  const roomA = await createRoom(alice);
  const shownA = await connectionItem(await alice.connectionId());
  expect(shownA?.roomId?.S).toBe(roomA);
  expect(shownA?.subscriptionCount?.N).toBe('2');

  // Showing A, alice follows B: bob's message reaches her, named by B's roomId; bob heard no leave.
  await say(bob, 'still with me?');
  await alice.next(isMessage(roomB, 'still with me?'));
  expect(bob.since(0).some((f) => f.type === 'presence' && f.event === 'leave')).toBe(false);
  // A frame without roomId is about the shown room.
  const sent = await say(alice, 'in A');
  expect(sent.roomId).toBe(roomA);

  // leaveroom naming B ends B only: bob hears her leave, she still shows A, and B's messages stop reaching her.
  const left = await alice.expectReply({ action: 'leaveroom', roomId: roomB });
  expect(left).toMatchObject({ type: 'left', roomId: roomB });
  await bob.next(isPresence(roomB, 'leave', 'alice-many'));
  const after = await connectionItem(await alice.connectionId());
  expect(after?.roomId?.S).toBe(roomA);
  expect(after?.subscriptionCount?.N).toBe('1');
  expect(await subscriptionItem(await alice.connectionId(), roomB)).toBeUndefined();
  const mark = alice.mark();
  await say(bob, 'gone?');
  await say(alice, 'A goes on');
  await alice.next(isMessage(roomA, 'A goes on'));
  // Every fan-out over and its frames arrived: a message of B it would have posted her is there by now.
  await world.test.settle();
  expect(alice.since(mark).some((f) => f.roomId === roomB && f.type === 'message')).toBe(false);

  // Leaving a room it does not follow is refused, and changes nothing.
  const again = await alice.ask({ action: 'leaveroom', roomId: roomB });
  expect(again).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
});

it('the lobby is followed only while shown, and joining a followed room again counts nothing', async () => {
  const carol = await connect('carol-many');
  const id = await carol.connectionId();
  expect(await subscriptionItem(id, 'lobby')).toBeDefined();
  const roomA = await createRoom(carol);
  expect(await subscriptionItem(id, 'lobby')).toBeUndefined();
  const roomB = await createRoom(carol);
  await carol.expectReply({ action: 'joinroom', roomId: roomA });
  await carol.expectReply({ action: 'joinroom', roomId: roomB });
  expect((await connectionItem(id))?.subscriptionCount?.N).toBe('2');
  // leaveroom without roomId leaves the shown room for the lobby, as before; the other room stays followed.
  expect(await carol.expectReply({ action: 'leaveroom' })).toMatchObject({ roomId: roomB });
  const item = await connectionItem(id);
  expect(item?.roomId?.S).toBe('lobby');
  expect(item?.subscriptionCount?.N).toBe('1');
  expect(await subscriptionItem(id, roomA)).toBeDefined();
  expect(await subscriptionItem(id, roomB)).toBeUndefined();
  expect(await subscriptionItem(id, 'lobby')).toBeDefined();
});

it('the 101st room is refused TOO_MANY_ROOMS, and one followed already is still joined', async () => {
  const dave = await connect('dave-many');
  const id = await dave.connectionId();
  const followed = await createRoom(dave);
  const other = await connect('erin-many');
  const unfollowed = await createRoom(other);
  // 100 rooms: the count is what the guard reads (creating 99 more rooms would test the same write).
  await world.db.send(
    new UpdateItemCommand({
      TableName: world.table('ConnectionsTable'),
      Key: { connectionId: { S: id } },
      UpdateExpression: 'SET subscriptionCount = :max',
      ExpressionAttributeValues: { ':max': { N: '100' } },
    }),
  );
  const created = await dave.ask({ action: 'createroom' });
  expect(created).toMatchObject({ type: 'error', code: 'TOO_MANY_ROOMS' });
  expect(String(created.message)).toMatch(/100 rooms/);
  const joined = await dave.ask({ action: 'joinroom', roomId: unfollowed });
  expect(joined).toMatchObject({ type: 'error', code: 'TOO_MANY_ROOMS' });
  expect(await subscriptionItem(id, unfollowed)).toBeUndefined();
  const item = await connectionItem(id);
  expect(item?.roomId?.S).toBe(followed);
  expect(item?.subscriptionCount?.N).toBe('100');
  // A room it follows is no new subscription.
  expect(await dave.expectReply({ action: 'joinroom', roomId: followed })).toMatchObject({ type: 'joined' });
  // One left, one more may be followed.
  await dave.expectReply({ action: 'leaveroom' });
  expect(await dave.expectReply({ action: 'joinroom', roomId: unfollowed })).toMatchObject({
    type: 'joined',
  });
});

it('$disconnect tells every room the connection followed that it left', async () => {
  const frank = await connect('frank-many');
  const gina = await connect('gina-many');
  const roomA = await createRoom(gina);
  const hank = await connect('hank-many');
  const roomB = await createRoom(hank);
  await joinRoom(frank, roomA, [gina]);
  await joinRoom(frank, roomB, [hank]);
  await frank.close();
  await Promise.all([
    gina.next(isPresence(roomA, 'leave', 'frank-many')),
    hank.next(isPresence(roomB, 'leave', 'frank-many')),
  ]);
});

it('room frames naming a followed room act there, under the name shown there, and reach its members only', async () => {
  // bob shows "ann-f" in B, so alice (also "ann-f") shows "ann-f (2)" there; in A she shows "ann-f".
  const bob = await connect('ann-f');
  const roomB = await createRoom(bob);
  const alice = await connect('ann-f');
  await alice.expectReply({ action: 'joinroom', roomId: roomB });
  await bob.next(isPresence(roomB, 'join', 'ann-f (2)'));
  const carol = await connect('carol-f');
  const roomA = await createRoom(carol);
  await joinRoom(alice, roomA, [carol]);
  expect((await connectionItem(await alice.connectionId()))?.roomId?.S).toBe(roomA);
  const carolMark = carol.mark();

  // sendmessage: stored in B under alice's name there, and posted to B's members.
  const ack = await alice.expectReply({ action: 'sendmessage', roomId: roomB, message: 'to B' });
  expect(ack).toMatchObject({ type: 'ack', roomId: roomB });
  const heard = await bob.next(isMessage(roomB, 'to B'));
  expect(heard.username).toBe('ann-f (2)');

  // history, who: B's, not the shown room's.
  const history = await alice.expectReply({ action: 'history', roomId: roomB });
  expect(history.roomId).toBe(roomB);
  expect((history.messages as Frame[]).map((m) => m.text)).toContain('to B');
  const who = await alice.expectReply({ action: 'who', roomId: roomB.toLowerCase() });
  expect(who).toMatchObject({ roomId: roomB, memberCount: 2 });
  expect([...(who.members as string[])].sort()).toEqual(['ann-f', 'ann-f (2)']);

  // typing (one-way): bob sees it in B.
  alice.send({ action: 'typing', roomId: roomB });
  const typing = await bob.next((f) => f.type === 'typing' && f.roomId === roomB);
  expect(typing.username).toBe('ann-f (2)');

  // markread: the position in B.
  const read = await alice.expectReply({ action: 'markread', roomId: roomB, seq: ack.seq });
  expect(read).toMatchObject({ type: 'read', roomId: roomB, lastReadSeq: ack.seq });

  // seenby: B's members under their names in B, alice's position there.
  const seen = await alice.expectReply({ action: 'seenby', roomId: roomB });
  expect(seen).toMatchObject({ type: 'seenby', roomId: roomB, memberCount: 2, tooLarge: false });
  expect(seen.members).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ username: 'ann-f (2)', lastReadSeq: ack.seq }),
      expect.objectContaining({ username: 'ann-f' }),
    ]),
  );

  // react: a change of B's message, posted to B.
  const changed = await alice.expectReply({ action: 'react', roomId: roomB, seq: ack.seq, reaction: '👍' });
  expect(changed).toMatchObject({ type: 'changed', roomId: roomB });
  await bob.next((f) => f.type === 'reaction' && f.roomId === roomB);

  // The shown room heard none of it, and a frame without roomId is still about the shown room.
  const inA = await say(alice, 'to A');
  expect(inA.roomId).toBe(roomA);
  await carol.next(isMessage(roomA, 'to A'));
  const carolSaw = carol.since(carolMark);
  expect(carolSaw.some((f) => f.roomId === roomB)).toBe(false);
  expect(carolSaw.some((f) => f.type === 'typing')).toBe(false);
  expect((await connectionItem(await alice.connectionId()))?.roomId?.S).toBe(roomA);
});

it('a room frame naming a room the connection does not follow is NOT_SUBSCRIBED and done nowhere', async () => {
  const owner = await connect('owner-nf');
  const other = await createRoom(owner);
  const mallory = await connect('mallory-nf');
  const own = await createRoom(mallory);
  for (const frame of [
    { action: 'sendmessage', roomId: other, message: 'sneaky' },
    { action: 'history', roomId: other },
    { action: 'who', roomId: other },
    { action: 'markread', roomId: other, seq: 1 },
    { action: 'react', roomId: other, seq: 1, reaction: '👍' },
    { action: 'closeroom', roomId: other },
    { action: 'sendmessage', roomId: 'lobby', message: 'sneaky' },
  ])
    expect(await mallory.ask(frame)).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
  const history = await owner.expectReply({ action: 'history' });
  expect(history.messages).toEqual([]);
  expect(await mallory.expectReply({ action: 'history' })).toMatchObject({ roomId: own, messages: [] });
});

it('a member named in a room it follows without showing it counts the mention there', async () => {
  const bob = await connect('bob-m');
  const roomB = await createRoom(bob);
  const dave = await connect('dave-m');
  await joinRoom(dave, roomB, [bob]);
  await createRoom(dave);
  await say(bob, 'over to you @dave-m');
  await dave.next(isMessage(roomB, 'over to you @dave-m'));
  const mine = await dave.expectReply({ action: 'myrooms' });
  const b = (mine.rooms as Frame[]).find((r) => r.roomId === roomB);
  expect(b).toMatchObject({ unread: 1, mentions: 1 });
});
