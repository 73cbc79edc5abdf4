import type { Connection } from '#core/ports';
import { findPeople, type PeopleStore, parsePeopleQuery, sharedWith } from '#people/people';
import { PEOPLE_LIMITS, type Person } from '#protocol';

/**
 * findpeople's rules (functions/people/people.ts) over a fake store: the caller's rooms searched are bounded,
 * each room's read is bounded by the limit, results are deduplicated, sorted by name, never the caller.
 */
const me = `user:${'m'.repeat(43)}`;
const id = (c: string) => `user:${c.repeat(43)}`;
const caller: Connection = {
  connectionId: 'c1',
  roomId: 'lobby',
  username: 'me',
  userId: me,
  connectedAt: '',
};

function store(
  rooms: Record<string, Person[]>,
  mine: string[],
): PeopleStore & { reads: string[]; limits: number[] } {
  const reads: string[] = [];
  const limits: number[] = [];
  return {
    reads,
    limits,
    roomsOf: async (_key, limit) => {
      limits.push(limit);
      return mine.slice(0, limit);
    },
    namedIn: async (roomId, prefix, limit) => {
      reads.push(roomId);
      return (rooms[roomId] ?? []).filter((p) => p.username.toLowerCase().startsWith(prefix)).slice(0, limit);
    },
    memberOf: async (key, roomIds) =>
      roomIds.flatMap((roomId) =>
        (rooms[roomId] ?? []).filter((p) => p.userId === key).map((p) => ({ roomId, username: p.username })),
      ),
  };
}

const deps = (people: PeopleStore, connection: Connection = caller) => ({
  people,
  connections: { get: async () => connection } as never,
});

it('lists each co-member once, by name, never the caller, and reads at most roomsSearched rooms', async () => {
  const rooms: Record<string, Person[]> = {
    R1: [
      { userId: id('b'), username: 'bob' },
      { userId: me, username: 'Bo (me)' },
    ],
    R2: [
      { userId: id('b'), username: 'bob' },
      { userId: id('a'), username: 'Boa' },
    ],
  };
  const mine = ['R1', 'R2', ...Array.from({ length: 40 }, (_, i) => `X${i}`)];
  const s = store(rooms, mine);
  const frame = await findPeople(deps(s), 'c1', { prefix: 'bo', limit: 20 });
  expect(frame.people).toEqual([
    { userId: id('a'), username: 'Boa' },
    { userId: id('b'), username: 'bob' },
  ]);
  expect(s.limits).toEqual([PEOPLE_LIMITS.roomsSearched]);
  expect(s.reads).toHaveLength(PEOPLE_LIMITS.roomsSearched);
  expect((await findPeople(deps(s), 'c1', { prefix: 'bo', limit: 1 })).people).toHaveLength(1);
});

it('refuses a caller without sign-in FORBIDDEN, reading nothing', async () => {
  const s = store({}, ['R1']);
  const anonymous = { ...caller, userId: 'connection:c1' };
  await expect(findPeople(deps(s, anonymous), 'c1', { prefix: 'a', limit: 20 })).rejects.toMatchObject({
    code: 'FORBIDDEN',
  });
  expect(s.limits).toEqual([]);
});

it('tells whether two users share a room', async () => {
  const s = store({ R1: [{ userId: id('b'), username: 'bob' }] }, ['R1']);
  // And the name the other shows there, which opendm keeps with a pair's room opened by id.
  expect(await sharedWith(s, me, id('b'))).toEqual({ shares: true, username: 'bob' });
  expect(await sharedWith(s, me, id('z'))).toEqual({ shares: false });
});

it('folds the prefix and checks it and the limit', () => {
  expect(parsePeopleQuery({ prefix: '  ＡLi  ' })).toEqual({ prefix: 'ali', limit: 20 });
  expect(parsePeopleQuery({ prefix: 'a', limit: 3 })).toEqual({ prefix: 'a', limit: 3 });
  for (const body of [
    {},
    { prefix: '' },
    { prefix: 'a'.repeat(33) },
    { prefix: 'a#b' },
    { prefix: 'a', limit: 1.5 },
  ])
    expect(() => parsePeopleQuery(body)).toThrow();
});
