import { dmRoomId, memberKeyOf, membershipTtl, senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { isRoomCode } from '#protocol';
import { openDm } from '#rooms/directRooms';

/** The pure rules of memberships.ts: whose membership a connection's is, the pair's code, who may open one. */
const a = 'user:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const b = 'user:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
const c = 'user:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC';
const connection = (extra: Partial<Connection>): Connection => ({
  connectionId: 'conn1',
  roomId: 'lobby',
  username: 'alice',
  connectedAt: '2026-11-24T00:00:00.000Z',
  ...extra,
});

it('gives a pair one room code whichever of the two asks, a 12-character code no other pair shares', () => {
  expect(dmRoomId(a, b)).toBe(dmRoomId(b, a));
  expect(dmRoomId(a, b)).toMatch(/^[A-HJ-NP-Z2-9]{12}$/);
  expect(isRoomCode(dmRoomId(a, b))).toBe(true);
  expect(new Set([dmRoomId(a, b), dmRoomId(a, c), dmRoomId(b, c)]).size).toBe(3);
});

it('keeps memberships for the signed-in user first, else the resume token, else the connection', () => {
  expect(memberKeyOf(connection({ userId: a, sendScope: 'resume:x' }))).toBe(a);
  expect(memberKeyOf(connection({ userId: 'connection:conn1', sendScope: 'resume:x' }))).toBe('resume:x');
  expect(memberKeyOf(connection({ userId: 'connection:conn1' }))).toBe('connection:conn1');
  const now = new Date('2026-11-24T00:00:00Z');
  expect(membershipTtl(a, now)).toBeUndefined();
  expect(membershipTtl('connection:conn1', now)).toBe(now.getTime() / 1000 + 3 * 3600);
});

it('refuses a direct message without sign-in before anything is read or written', async () => {
  const caller = connection({ userId: 'connection:conn1' });
  const untouched = () => {
    throw new Error('nothing may be stored or listed for a refused opendm');
  };
  const deps = {
    connections: { get: async () => caller, listMembers: untouched },
    memberships: { openDm: untouched, join: untouched, connections: untouched },
    now: () => new Date(),
    join: untouched,
  } as unknown as Parameters<typeof openDm>[0];
  await expect(openDm(deps, 'conn1', { userId: b })).rejects.toMatchObject({ code: 'FORBIDDEN' });
});

it('keys a membership by the same identity a message’s author is stored by, so unread can leave out your own', () => {
  // myrooms compares a message's authorKey with memberKey(room, the membership's key): the two must name one identity.
  for (const c of [
    connection({ userId: a, sendScope: 'resume:x' }),
    connection({ userId: 'connection:conn1', sendScope: 'resume:x' }),
    connection({ userId: 'connection:conn1' }),
  ])
    expect(memberKeyOf(c)).toBe(senderOf(c));
});
