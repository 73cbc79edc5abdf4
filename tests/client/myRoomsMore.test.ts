import { MemberRooms } from '../../client/members';
import { fakeRequester } from '../helpers/fakeRequester';

/** `client.rooms.more`: whether the server's last `myrooms` answer left rooms out, as the frame says. */
function roomsAnswering(frames: Record<string, unknown>[]): MemberRooms {
  const client = { on: () => client };
  return new MemberRooms(
    client,
    {},
    {
      request: fakeRequester(async () => frames.shift()),
      join: async () => {
        throw new Error('no join here');
      },
      entered: () => undefined,
      roomId: () => 'lobby',
    },
  );
}

it('says more rooms exist after an answer that left some out, and not after one that lists them all', async () => {
  const room = { roomId: 'ABCDEFGH', lastSeq: 3, lastReadSeq: 1, unread: 2 };
  const rooms = roomsAnswering([
    { type: 'myrooms', rooms: [room], more: true },
    { type: 'myrooms', rooms: [room] },
  ]);
  expect(rooms.more).toBe(false);
  expect(await rooms.myRooms()).toEqual([room]);
  expect(rooms.more).toBe(true);
  await rooms.myRooms();
  expect(rooms.more).toBe(false);
});
