import type { MyRoom } from '@roomcast/client';
import type { ChatClient } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * The live notice of a direct message (`dmopened`, functions/people/dmNotice.ts) against the local cloud with
 * sign-in: when Ben opens a conversation with Ana, each of Ana's connected devices learns it at once (her app through
 * the client library's `dm` and `rooms` events, another device as the wire frame), and only when the room is new to
 * her list: Ben opening it again tells her nothing, Ben opening it after she left it (on every device in it) tells her
 * again.
 */
jest.setTimeout(240_000);

const { library: signedIn, device: wireDevice } = signedInCloud({ FrameRateLimit: '1000' });

const notices = (device: ChatClient) => device.frames.filter((f) => f.type === 'dmopened');

it("tells each of Ana's devices once when Ben opens a conversation with her, and again after she left it", async () => {
  const anaPhone = signedIn('ana', { trackRooms: true });
  const ben = signedIn('ben');
  await Promise.all([anaPhone.ready(20_000), ben.ready(20_000)]);
  const anaLaptop = await wireDevice('ana');
  const created = await anaPhone.createRoom();
  await ben.join(created.roomId, created.inviteKey);
  const anaId = (await ben.rooms.seenBy()).members.find((m) => m.username === 'ana')?.userId ?? '';

  const told = new Promise<MyRoom>((resolve) => anaPhone.rooms.on('dm', resolve));
  const listed = new Promise<readonly MyRoom[]>((resolve) =>
    anaPhone.rooms.on('rooms', (rooms) => rooms.some((r) => r.dm) && resolve(rooms)),
  );
  const dm = await ben.rooms.openDirect({ username: 'ana' });

  // The app learns it through the client library: the room, whom it is with, and at the top of her rooms.
  const room = await told;
  expect(room).toMatchObject({ roomId: dm.roomId, unread: 0, dm: { username: 'ben' } });
  expect(room.dm?.userId).toMatch(/^user:/);
  expect((await listed)[0]?.roomId).toBe(dm.roomId);
  // Her other device gets the frame itself.
  const frame = await anaLaptop.next((f) => f.type === 'dmopened');
  expect(frame).toMatchObject({ room: { roomId: dm.roomId, lastReadSeq: 0, dm: { username: 'ben' } } });

  // Ben opens it again: it is already in her rooms, nothing is posted (a notice goes before the opener's reply).
  await ben.leave();
  expect((await ben.rooms.openDirect({ userId: anaId })).roomId).toBe(dm.roomId);
  // A request of her own after his reply: its answer comes after any notice posted to her before that reply.
  await anaLaptop.expectReply({ action: 'myrooms' });
  expect(notices(anaLaptop)).toHaveLength(1);

  // Ana enters it and leaves it, on her laptop too (which followed it when told): she is in a room while any device
  // of hers is, so only now it leaves her rooms; Ben opening it now tells her again.
  await anaPhone.join(dm.roomId);
  await anaPhone.leave();
  expect(await anaLaptop.expectReply({ action: 'leaveroom', roomId: dm.roomId })).toMatchObject({
    type: 'left',
  });
  await ben.leave();
  await ben.rooms.openDirect({ userId: anaId });
  await anaLaptop.next((f) => f.type === 'dmopened');
  expect(notices(anaLaptop)).toHaveLength(2);
});
