import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type Frame, isPresence } from '../helpers/chatClient';
import {
  connect,
  connectionItem,
  createRoom,
  joinRoom,
  say,
  subscriptionItem,
  useChatCloud,
} from './chatWorld';

/**
 * One connection, many rooms (issue 43 item 1; docs/ARCHITECTURE.md, "Subscriptions"): a join or create shows the
 * new room and keeps following the rooms shown before (not the lobby), `leaveroom {roomId}` ends one of them only,
 * a connection follows 100 rooms at most (TOO_MANY_ROOMS), and $disconnect tells each room it followed.
 */
jest.setTimeout(60_000);

const world = useChatCloud();

const isMessage = (roomId: string, text: string) => (f: Frame) =>
  f.type === 'message' && f.roomId === roomId && f.text === text;

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
  await new Promise((resolve) => setTimeout(resolve, 500));
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
      TableName: world.connectionsTable,
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
