import type { Connection } from '#core/ports';
import { SEARCH_LIMITS } from '#protocol';
import { forgetMembership, type MembershipStore, recordMembership } from '#rooms/memberships';
import { parseSearch } from '#search/query';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * One person, many devices, without a cloud (issue 72): a room that comes into the person's rooms on one device
 * (joinroom, createroom) or goes out of them (leaveroom) is posted to the person's other connections as `myroom`,
 * and the client lists it first and follows it, or drops it; a search prefix too short is refused by the client in
 * the server's own words, before any request.
 */
const fake = fakeServerPerTest();

const alice: Connection = {
  connectionId: 'laptop',
  roomId: 'ROOMAAAA',
  username: 'alice',
  userId: 'user:alice',
  connectedAt: '2026-11-29T01:00:00.000Z',
};

/** The membership ports with a store whose `join` says whether the membership is new, and the posts made. */
function ports(fresh: boolean) {
  const posts: { to: string; frame: Record<string, unknown> }[] = [];
  const memberships = {
    join: async () => fresh,
    leave: async () => undefined,
  } as unknown as MembershipStore;
  return {
    posts,
    deps: {
      connections: { get: async () => alice } as never,
      memberships,
      now: () => new Date('2026-11-29T01:00:00Z'),
      otherDevices: {
        devices: { connectionsOf: async () => ['laptop', 'phone', 'tablet'] },
        notifier: {
          post: async (to: string, payload: string) => {
            posts.push({ to, frame: JSON.parse(payload) });
            return 'delivered' as const;
          },
        },
      },
    },
  };
}

const failed = (error: unknown) => {
  throw error;
};

describe('the server', () => {
  it("posts a room new to the person's rooms to its other devices, as myrooms lists it, read to its head", async () => {
    const { deps, posts } = ports(true);
    const caller = { connectionId: 'laptop', admitted: alice };
    const joined = { roomId: 'ROOMBBBB', inviteKey: 'k'.repeat(22), lastSeq: 7, name: 'Night shift' };
    await recordMembership(deps, caller, joined, failed);
    const room = { roomId: 'ROOMBBBB', inviteKey: 'k'.repeat(22), lastSeq: 7, lastReadSeq: 7, unread: 0 };
    const frame = { type: 'myroom', roomId: 'ROOMBBBB', room: { ...room, name: 'Night shift' } };
    expect(posts).toEqual([
      { to: 'phone', frame },
      { to: 'tablet', frame },
    ]);
  });

  it('tells nothing for a rejoin of a room the person has, nor for the lobby', async () => {
    const { deps, posts } = ports(false);
    await recordMembership(
      deps,
      { connectionId: 'laptop', admitted: alice },
      { roomId: 'ROOMBBBB', lastSeq: 3 },
      failed,
    );
    const lobby = ports(true);
    await recordMembership(
      lobby.deps,
      { connectionId: 'laptop', admitted: alice },
      { roomId: 'lobby', lastSeq: 0 },
      failed,
    );
    expect([...posts, ...lobby.posts]).toEqual([]);
  });

  it("tells the other devices a room left the person's rooms", async () => {
    const { deps, posts } = ports(true);
    await forgetMembership(deps, { connectionId: 'laptop', admitted: alice }, 'ROOMBBBB', failed);
    expect(posts.map((p) => p.to)).toEqual(['phone', 'tablet']);
    expect(posts[0]?.frame).toEqual({ type: 'myroom', roomId: 'ROOMBBBB', left: true });
  });

  it("tells a guest's other connections nothing: they are no person across connections", async () => {
    const { deps, posts } = ports(true);
    const guest = { ...alice, userId: undefined };
    await recordMembership(
      deps,
      { connectionId: 'laptop', admitted: guest },
      { roomId: 'ROOMBBBB', lastSeq: 1 },
      failed,
    );
    expect(posts).toEqual([]);
  });
});

describe('the client', () => {
  it('lists a room entered on another device first and follows it with its key; a left one goes', async () => {
    fake.server.rooms.set('AAAAAAAA', []);
    fake.server.rooms.set('BBBBBBBB', []);
    fake.server.myRooms = [{ roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0 }];
    const chat = fake.client({ trackRooms: true });
    await tick(100);
    const lists: string[][] = [];
    chat.rooms.on('rooms', (rooms) => lists.push(rooms.map((r) => r.roomId)));
    // Malformed ones change nothing.
    fake.server.last.push({ type: 'myroom', roomId: 'BBBBBBBB', room: { roomId: 'CCCCCCCC', lastSeq: 0 } });
    fake.server.last.push({ type: 'myroom', roomId: 'BBBBBBBB', room: { roomId: 'BBBBBBBB', lastSeq: -1 } });
    await tick();
    expect(lists).toEqual([]);

    const room = {
      roomId: 'BBBBBBBB',
      inviteKey: 'key-b',
      lastSeq: 0,
      lastReadSeq: 0,
      unread: 0,
      name: 'Night',
    };
    fake.server.last.push({ type: 'myroom', roomId: 'BBBBBBBB', room });
    await tick();
    expect(chat.rooms.list.map((r) => r.roomId)).toEqual(['BBBBBBBB', 'AAAAAAAA']);
    expect(chat.rooms.list[0]).toMatchObject({ name: 'Night', inviteKey: 'key-b' });
    expect(fake.server.sent('subscribe').at(-1)?.rooms).toEqual([
      { roomId: 'BBBBBBBB', key: 'key-b', afterSeq: 0 },
    ]);
    expect(chat.rooms.followed).toContain('BBBBBBBB');
    // Followed: a message there counts unread at once.
    fake.server.store('BBBBBBBB', 'hi', 'bob');
    await tick();
    expect(chat.rooms.list[0]).toMatchObject({ roomId: 'BBBBBBBB', unread: 1 });

    fake.server.last.push({ type: 'myroom', roomId: 'AAAAAAAA', left: true });
    await tick();
    expect(chat.rooms.list.map((r) => r.roomId)).toEqual(['BBBBBBBB']);
    expect(chat.rooms.followed).not.toContain('AAAAAAAA');
  });

  it("refuses a prefix too short in the server's own words, sending nothing", async () => {
    const chat = fake.client();
    await tick();
    const short = `${'m'.repeat(SEARCH_LIMITS.prefixMinChars - 1)}*`;
    let server = '';
    try {
      parseSearch({ query: `meeting ${short}` });
    } catch (error) {
      server = (error as Error).message;
    }
    expect(server).toContain(short);
    await expect(chat.rooms.search(`meeting ${short}`)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: server,
    });
    // A stray `*` too, as the server says it.
    let stray = '';
    try {
      parseSearch({ query: 'meeting *' });
    } catch (error) {
      stray = (error as Error).message;
    }
    await expect(chat.rooms.search('meeting *')).rejects.toMatchObject({ message: stray });
    expect(fake.server.sent('search')).toEqual([]);
    // Long enough, it goes.
    void chat.rooms.search(`${'m'.repeat(SEARCH_LIMITS.prefixMinChars)}*`).catch(() => undefined);
    await tick();
    expect(fake.server.sent('search')).toHaveLength(1);
  });
});
