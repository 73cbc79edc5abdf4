import type { Frame } from '../helpers/chatClient';
import { connect, createRoom, joinRoom, say, useChatCloud } from '../helpers/chatWorld';

/**
 * A member who closes their socket is shown leaving even when a fan-out meets the closed socket first. API Gateway
 * answers 410 to posts from the close on, while $disconnect comes some time later (AWS gives no bound); the
 * fan-out's prune of the 410 must not take away what $disconnect reads to tell the room, or the member stays listed
 * as present for everyone.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

it('a member whose closed socket a message meets before $disconnect runs is still shown leaving', async () => {
  const owner = await connect('olga-leaving');
  const roomId = await createRoom(owner);
  const bob = await connect('bob-leaving');
  await joinRoom(bob, roomId, [owner]);
  const hello = await say(bob, 'hello');
  await owner.next((f: Frame) => f.type === 'message' && f.seq === hello.seq);
  world.cloud.gateway.setFaults({ disconnectDelayMs: 2000 });
  await bob.close();

  // Bob's socket is closed, his $disconnect still 2 s away: this message's post to him answers 410.
  await say(owner, 'still there?');
  const leave = await owner.next(
    (f: Frame) => f.type === 'presence' && f.event === 'leave' && f.username === 'bob-leaving',
    15_000,
  );
  console.log(world.test.logs.filter((l) => /gone|Disconnect|prepared|Gone/.test(l)).join('\n'));
  expect(leave.roomId).toBe(roomId);
  const members = await owner.expectReply({ action: 'who' });
  expect(members.members).toEqual(['olga-leaving']);
});
