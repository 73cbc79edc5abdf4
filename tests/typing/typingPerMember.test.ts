import { isPresence } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Typing is limited per member, not per connection (docs/OPERATIONS.md): a signed-in member's devices together relay
 * one heartbeat per TypingIntervalSeconds into a room, so opening more connections does not multiply the posts.
 */
jest.setTimeout(240_000);

const { device } = signedInCloud({
  FrameRateLimit: '100000',
  StrikeLimit: '100000',
  TypingIntervalSeconds: '30',
  TypingMaxMembers: '20',
});

it("relays one heartbeat for five devices of one member typing at once, and the other member's own", async () => {
  const ben = await device('ben');
  const created = await ben.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const ana = await Promise.all(Array.from({ length: 5 }, () => device('ana')));
  // Presence is per member: Ben sees Ana join once, whichever of her devices came first.
  for (const d of ana) await d.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  await ben.next(isPresence(roomId, 'join', 'ana'));
  const carol = await device('carol');
  await carol.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  for (const d of ana) d.send({ action: 'typing' });
  carol.send({ action: 'typing' });
  await ben.next((f) => f.type === 'typing' && f.username === 'carol');
  await ben.next((f) => f.type === 'typing' && f.username === 'ana');
  // Every frame of the burst has had time to be relayed (one invocation each); a marker message closes it.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await carol.expectReply({ action: 'sendmessage', message: 'marker' });
  await ben.next((f) => f.type === 'message' && f.text === 'marker');
  const fromAna = ben.frames.filter((f) => f.type === 'typing' && f.username === 'ana');
  expect(fromAna).toHaveLength(1);
});

it("shows a member's typing to the others, never on the member's own other devices", async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const [phone, laptop] = await Promise.all([device('alice'), device('alice')]);
  for (const d of [phone, laptop])
    await d.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  await bob.next(isPresence(roomId, 'join', 'alice'));
  phone.send({ action: 'typing' });
  await bob.next((f) => f.type === 'typing' && f.username === 'alice');
  // Bob's frame and any to her laptop are posted by the same invocation; a message after it, through the fan-out,
  // reaches the laptop after them.
  await bob.expectReply({ action: 'sendmessage', message: 'marker' });
  await laptop.next((f) => f.type === 'message' && f.text === 'marker');
  expect(laptop.frames.filter((f) => f.type === 'typing')).toEqual([]);
});
