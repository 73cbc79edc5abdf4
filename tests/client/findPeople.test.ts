import { RoomcastError } from '../../client/errors';
import { MemberRooms } from '../../client/members';
import { fakeRequester } from '../helpers/fakeRequester';

/** `client.rooms.findPeople`: one `findpeople` request with the folded prefix; a prefix no name starts with is refused locally. */
function roomsAnswering(frames: Record<string, unknown>[], sent: Record<string, unknown>[]): MemberRooms {
  const client = { on: () => client };
  return new MemberRooms(
    client,
    {},
    {
      request: fakeRequester(async (frame) => {
        sent.push(frame);
        return frames.shift();
      }),
      join: async () => {
        throw new Error('no join here');
      },
      entered: () => undefined,
      roomId: () => 'lobby',
    },
  );
}

const bob = { userId: `user:${'b'.repeat(43)}`, username: 'Bob' };

it('asks findpeople with the prefix folded as the server folds it, and answers its people', async () => {
  const sent: Record<string, unknown>[] = [];
  const rooms = roomsAnswering(
    [
      { type: 'people', prefix: 'bo', people: [bob] },
      { type: 'people', prefix: 'b', people: [] },
    ],
    sent,
  );
  expect(await rooms.findPeople('  BO ')).toEqual([bob]);
  expect(await rooms.findPeople('b', { limit: 5 })).toEqual([]);
  expect(sent).toEqual([
    { action: 'findpeople', prefix: 'bo' },
    { action: 'findpeople', prefix: 'b', limit: 5 },
  ]);
});

it('refuses an empty or too long prefix and a bad limit without sending anything', async () => {
  const sent: Record<string, unknown>[] = [];
  const rooms = roomsAnswering([], sent);
  for (const [prefix, limit] of [
    ['', undefined],
    ['   ', undefined],
    ['x'.repeat(33), undefined],
    ['a#b', undefined],
    ['a', 0],
    ['a', 21],
  ] as const) {
    const refused = rooms.findPeople(prefix, limit === undefined ? {} : { limit });
    await expect(refused).rejects.toBeInstanceOf(RoomcastError);
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }
  expect(sent).toEqual([]);
});
