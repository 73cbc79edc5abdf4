import type { Connection } from '#core/ports';
import { roomTtl } from '#core/roomLife';
import { settings } from '#platform/settings';
import { SEARCH_LIMITS } from '#protocol';
import { forgetMembership, type MembershipStore, recordMembership } from '#rooms/memberships';
import { parseSearch } from '#search/query';
import { fakeServerPerTest, tick } from '../helpers/fakeServerPerTest';

/**
 * One person, many devices, each following what the person does on another, without a cloud: a room that comes
 * into the person's rooms on one device (joinroom, createroom) or goes out of them (leaveroom) is posted to the
 * person's other connections as `myroom`, and the client lists it first and follows it, or drops it; a search prefix
 * too short is refused by the client in the server's own words, before any request.
 */
const fake = fakeServerPerTest();

const alice: Connection = {
  connectionId: 'laptop',
  roomId: 'ROOMAAAA',
  username: 'alice',
  userId: 'user:alice',
  connectedAt: '2026-11-29T01:00:00.000Z',
};

/** The last activity of the room the tests enter: a message at this instant moved its end (`ttl`) to `roomTtl`. */
const lastActive = new Date('2026-11-28T22:15:07.000Z');

/**
 * The membership ports with a store whose `join` says whether the membership is new, whose `leave` whether there was
 * one, and the posts made.
 */
function ports(fresh: boolean) {
  const posts: { to: string; frame: Record<string, unknown> }[] = [];
  const memberships = {
    join: async () => fresh,
    leave: async () => fresh,
    rooms: async (ids: string[]) =>
      ids.map((roomId) => ({ roomId, seq: 7, ttl: roomTtl(lastActive, settings().RoomIdleDays) })),
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
    // With its last activity, the second `myrooms` orders it by, so the other devices place it where it belongs.
    const activeAt = lastActive.getTime() / 1000;
    const frame = { type: 'myroom', roomId: 'ROOMBBBB', room: { ...room, name: 'Night shift', activeAt } };
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

  it("tells the other devices a room left the person's rooms, once: a leave that finds no membership tells nothing", async () => {
    const { deps, posts } = ports(true);
    await forgetMembership(deps, { connectionId: 'laptop', admitted: alice }, 'ROOMBBBB', failed);
    expect(posts.map((p) => p.to)).toEqual(['phone', 'tablet']);
    expect(posts[0]?.frame).toEqual({ type: 'myroom', roomId: 'ROOMBBBB', left: true });
    // The phone letting go after it was told: its membership is gone already, so the laptop hears nothing back.
    const after = ports(false);
    await forgetMembership(after.deps, { connectionId: 'phone', admitted: alice }, 'ROOMBBBB', failed);
    expect(after.posts).toEqual([]);
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

  it('places a room entered on another device where the next myrooms would, by its activity, not first', async () => {
    // The answer's order: latest activity first (A 300 s, B 200 s, C 100 s).
    for (const id of ['AAAAAAAA', 'BBBBBBBB', 'CCCCCCCC', 'DDDDDDDD', 'EEEEEEEE'])
      fake.server.rooms.set(id, []);
    fake.server.myRooms = [
      { roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0, activeAt: 300 },
      { roomId: 'BBBBBBBB', lastSeq: 0, lastReadSeq: 0, unread: 0, activeAt: 200 },
      { roomId: 'CCCCCCCC', lastSeq: 0, lastReadSeq: 0, unread: 0, activeAt: 100 },
    ];
    const chat = fake.client({ trackRooms: true });
    await tick(100);
    const order = () => chat.rooms.list.map((r) => r.roomId[0]).join('');
    expect(order()).toBe('ABC');
    const told = (roomId: string, activeAt: number) =>
      fake.server.last.push({
        type: 'myroom',
        roomId,
        room: { roomId, lastSeq: 0, lastReadSeq: 0, unread: 0, activeAt },
      });
    // Joined on the laptop, last active between B and C: there, as myrooms sorts it.
    told('DDDDDDDD', 150);
    await tick();
    expect(order()).toBe('ABDC');
    // Active in B's second: after B, by code.
    told('EEEEEEEE', 200);
    await tick();
    expect(order()).toBe('ABEDC');
    // A message in C at 250 s moves it up by that second, above every room last active before it.
    fake.server.last.push({
      type: 'message',
      roomId: 'CCCCCCCC',
      seq: 1,
      messageId: 'msg-c-1',
      username: 'bob',
      text: 'later',
      sentAt: new Date(250_000).toISOString(),
      authorKey: 'key-bob',
    });
    await tick();
    expect(order()).toBe('ACBED');
  });

  it('lets go of a room left on another device: stops following it, and leaves it for the lobby when shown', async () => {
    for (const id of ['AAAAAAAA', 'BBBBBBBB']) fake.server.rooms.set(id, []);
    fake.server.myRooms = [
      { roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0 },
      { roomId: 'BBBBBBBB', lastSeq: 0, lastReadSeq: 0, unread: 0 },
    ];
    const chat = fake.client({ trackRooms: true });
    await tick(100);
    const joined = chat.join('AAAAAAAA');
    await tick();
    await joined;
    expect(chat.rooms.followed).toContain('BBBBBBBB');

    // B, followed, was left on the laptop: gone from the list at once, and this device's follow ends with it.
    fake.server.last.push({ type: 'myroom', roomId: 'BBBBBBBB', left: true });
    await tick();
    expect(chat.rooms.list.map((r) => r.roomId)).toEqual(['AAAAAAAA']);
    expect(fake.server.sent('leaveroom').map((f) => f.roomId)).toEqual(['BBBBBBBB']);
    expect(fake.server.followed(fake.server.last)).not.toContain('BBBBBBBB');

    // A, on screen: this device goes to the lobby, as the laptop did.
    fake.server.last.push({ type: 'myroom', roomId: 'AAAAAAAA', left: true });
    await tick();
    expect(chat.rooms.list).toEqual([]);
    expect(chat.roomId).toBe('lobby');
    expect(fake.server.sent('leaveroom')).toHaveLength(2);
  });

  it('a client without trackRooms only drops a room left elsewhere: its own follows are its own', async () => {
    fake.server.rooms.set('AAAAAAAA', []);
    fake.server.myRooms = [{ roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0 }];
    const bot = fake.client();
    await tick();
    const listed = bot.rooms.myRooms();
    const followed = bot.rooms.subscribe([{ roomId: 'AAAAAAAA' }]);
    await tick();
    await Promise.all([listed, followed]);
    expect(bot.rooms.followed).toEqual(['AAAAAAAA']);
    fake.server.last.push({ type: 'myroom', roomId: 'AAAAAAAA', left: true });
    await tick();
    expect(bot.rooms.list).toEqual([]);
    expect(fake.server.sent('leaveroom')).toEqual([]);
    expect(fake.server.followed(fake.server.last)).toEqual(['AAAAAAAA']);
  });

  it("counts a thread reply in the room's unread only when it was also sent to the room, as myrooms does", async () => {
    fake.server.rooms.set('AAAAAAAA', []);
    fake.server.myRooms = [{ roomId: 'AAAAAAAA', lastSeq: 0, lastReadSeq: 0, unread: 0 }];
    const chat = fake.client({ trackRooms: true });
    await tick(100);
    const message = (seq: number, extra: Record<string, unknown>) => ({
      type: 'message',
      roomId: 'AAAAAAAA',
      seq,
      messageId: `msg-a-${seq}`,
      username: 'bob',
      text: `m${seq}`,
      sentAt: new Date(0).toISOString(),
      authorKey: 'key-bob',
      ...extra,
    });
    fake.server.last.push(message(1, {}));
    // Two replies in its thread, read (or not) in the Threads view; one of them also sent to the room.
    fake.server.last.push(message(2, { threadOf: 1 }));
    fake.server.last.push(message(3, { threadOf: 1, alsoToRoom: true }));
    fake.server.last.push(message(4, { threadOf: 1 }));
    await tick();
    expect(chat.rooms.list[0]).toMatchObject({ roomId: 'AAAAAAAA', lastSeq: 4, unread: 2 });
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
