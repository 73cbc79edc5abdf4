import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import { memberKey } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { roomTtl } from '#core/roomLife';
import { settings } from '#platform/settings';
import { UNREAD_MAX } from '#protocol';
import { DynamoReadPositions } from '#reading/dynamoReadPositions';
import type { ReadDeps } from '#reading/ports';
import { markRead } from '#reading/reading';
import { DynamoMembershipStore } from '#rooms/dynamoMemberships';
import { type MemberDeps, MY_ROOMS_MAX, myRooms, UNREAD_EVENTS_READ } from '#rooms/memberships';
import { templateTables } from '../helpers/templateTables';

/**
 * `myrooms` and `markread` against the real DynamoDB adapters (dynalite): memberships are stored by room code, so a
 * member of more rooms than are listed must still see the most recently active ones, not the first codes in the
 * alphabet; unread counts messages from others, read from the Messages table as the send and change paths store them;
 * a read position past the room's head is refused.
 */
const tables = templateTables();
let db: DynamoDBDocumentClient;
let store: DynamoMembershipStore;
let members = 0;

beforeAll(() => {
  db = tables.db;
  store = new DynamoMembershipStore(db, {
    memberships: tables.table('MembershipsTable'),
    rooms: tables.table('RoomsTable'),
    connections: tables.table('ConnectionsTable'),
    messages: tables.table('MessagesTable'),
  });
});

const now = new Date('2026-11-24T08:00:00.000Z');
const nowSeconds = now.getTime() / 1000;

/** A member of `count` rooms; the room whose code sorts last is the most recently active (its TTL moved last). */
async function memberOf(count: number): Promise<{ deps: MemberDeps; byActivity: string[] }> {
  const userId = `user:${String(++members).padStart(43, 'M')}`;
  const codes = Array.from(
    { length: count },
    (_, i) => `R${String(members).padStart(3, '0')}${String(i).padStart(4, '0')}`,
  );
  for (const [i, roomId] of codes.entries()) {
    await db.send(
      new PutCommand({
        TableName: tables.table('RoomsTable'),
        Item: { roomId, seq: i + 1, createdAt: now.toISOString(), ttl: nowSeconds + 86_400 + i },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: tables.table('MembershipsTable'),
        Item: { memberKey: userId, roomId, lastReadSeq: 0, at: now.toISOString() },
      }),
    );
  }
  const connection: Connection = {
    connectionId: `conn-${members}`,
    roomId: 'lobby',
    username: 'alice',
    connectedAt: now.toISOString(),
    userId,
  };
  const deps = {
    connections: { get: async () => connection },
    memberships: store,
    now: () => now,
  } as unknown as MemberDeps;
  return { deps, byActivity: [...codes].reverse() };
}

it('lists the most recently active rooms of a member of more rooms than it lists, and says some are left out', async () => {
  const { deps, byActivity } = await memberOf(MY_ROOMS_MAX + 30);
  const frame = await myRooms(deps, 'conn');
  expect(frame.rooms.map((r) => r.roomId)).toEqual(byActivity.slice(0, MY_ROOMS_MAX));
  expect(frame.more).toBe(true);
  expect(frame.rooms[0]).toMatchObject({ lastSeq: MY_ROOMS_MAX + 30, lastReadSeq: 0 });
});

it('lists every room, with no `more`, when they all fit', async () => {
  const { deps, byActivity } = await memberOf(12);
  const frame = await myRooms(deps, 'conn');
  expect(frame.rooms.map((r) => r.roomId)).toEqual(byActivity);
  expect(frame).not.toHaveProperty('more');
});

it('lists rooms active in the same second by code, whatever order the memberships are read in, with their notices', async () => {
  const userId = `user:${'T'.repeat(43)}`;
  const codes = ['TYEAAAA2', 'TYEBBBB3', 'TYECCCC4'];
  for (const roomId of codes) await roomOf(roomId, 1, userId, 0);
  await db.send(
    new PutCommand({
      TableName: tables.table('MembershipsTable'),
      Item: { memberKey: userId, roomId: 'TYEBBBB3', lastReadSeq: 0, at: now.toISOString(), notices: 'mute' },
    }),
  );
  const deps = depsOf(userId);
  // Another store's order (a page read in reverse): the list is the same, and one whoever asks.
  const reversed = {
    ...deps,
    memberships: Object.assign(Object.create(store), {
      list: async (key: string, limit: number) => (await store.list(key, limit)).reverse(),
    }),
  } as MemberDeps;
  for (const asked of [deps, reversed]) {
    const frame = await myRooms(asked, 'c');
    expect(frame.rooms.map((r) => r.roomId)).toEqual(codes);
    expect(frame.rooms.map((r) => r.notices)).toEqual([undefined, 'mute', undefined]);
  }
});

/** A room at `seq` events, with `bob` (and the caller, alice) members; alice has read up to `readSeq`. */
async function roomOf(roomId: string, seq: number, alice: string, readSeq: number) {
  await db.send(
    new PutCommand({
      TableName: tables.table('RoomsTable'),
      Item: { roomId, seq, createdAt: now.toISOString(), ttl: nowSeconds + 86_400 },
    }),
  );
  await db.send(
    new PutCommand({
      TableName: tables.table('MembershipsTable'),
      Item: { memberKey: alice, roomId, lastReadSeq: readSeq, at: now.toISOString() },
    }),
  );
}

/** An item of the Messages table as the send path (a message) or the change path (`change` set) stores it. */
async function event(roomId: string, seq: number, item: Record<string, unknown>) {
  await db.send(
    new PutCommand({
      TableName: tables.table('MessagesTable'),
      Item: { roomId, seq, messageId: `m${seq}`, username: 'x', sentAt: now.toISOString(), ...item },
    }),
  );
}

const depsOf = (userId: string): MemberDeps =>
  ({
    connections: {
      get: async () => ({
        connectionId: 'c',
        roomId: 'lobby',
        username: 'alice',
        connectedAt: now.toISOString(),
        userId,
      }),
    },
    memberships: store,
    now: () => now,
  }) as unknown as MemberDeps;

it('counts as unread only messages from others after the read position: not reactions, edits, deletes or your own', async () => {
  const alice = `user:${'A'.repeat(43)}`;
  const roomId = 'UNREAD01';
  const fromAlice = memberKey(roomId, alice);
  const fromBob = memberKey(roomId, `user:${'B'.repeat(43)}`);
  // Read up to 2; after it: 3 messages from Bob, 2 reactions, 1 edit, 2 of Alice's own (one shown under Bob's name:
  // names are not who wrote it), and a message of Bob's he deleted, with its delete event.
  await roomOf(roomId, 12, alice, 2);
  await event(roomId, 1, { authorKey: fromBob, text: 'read already' });
  await event(roomId, 2, { authorKey: fromBob, text: 'read already' });
  await event(roomId, 3, { authorKey: fromBob, text: 'one' });
  await event(roomId, 4, { authorKey: fromAlice, text: 'mine', username: 'alice' });
  await event(roomId, 5, { change: 'reaction', targetSeq: 3, reaction: '👍', added: true, count: 1 });
  await event(roomId, 6, { authorKey: fromBob, text: 'two' });
  await event(roomId, 7, { change: 'edited', targetSeq: 6, text: 'two!' });
  await event(roomId, 8, { change: 'reaction', targetSeq: 6, reaction: '🎉', added: true, count: 1 });
  await event(roomId, 9, { authorKey: fromAlice, text: 'also mine', username: 'bob' });
  await event(roomId, 10, { authorKey: fromBob, text: 'three' });
  await event(roomId, 11, { authorKey: fromBob, deleted: 'author' });
  await event(roomId, 12, { change: 'deleted', targetSeq: 11, by: 'author' });

  const frame = await myRooms(depsOf(alice), 'c');
  expect(frame.rooms.find((r) => r.roomId === roomId)).toEqual({
    roomId,
    lastSeq: 12,
    lastReadSeq: 2,
    unread: 3,
    activeAt: expect.any(Number),
  });
  // Bob, who read nothing, counts Alice's two messages only.
  await db.send(
    new PutCommand({
      TableName: tables.table('MembershipsTable'),
      Item: { memberKey: `user:${'B'.repeat(43)}`, roomId, lastReadSeq: 0, at: now.toISOString() },
    }),
  );
  const bobs = await myRooms(depsOf(`user:${'B'.repeat(43)}`), 'c');
  expect(bobs.rooms.find((r) => r.roomId === roomId)).toMatchObject({ unread: 2 });
});

it("counts a reply in a thread only when it was also sent to the room: the room's flow, mentions included", async () => {
  const alice = `user:${'H'.repeat(43)}`;
  const roomId = 'UNREAD03';
  const fromBob = memberKey(roomId, `user:${'B'.repeat(43)}`);
  const naming = { mentionKeys: [memberKey(roomId, alice)], mentions: ['alice'] };
  await roomOf(roomId, 5, alice, 0);
  await event(roomId, 1, { authorKey: fromBob, text: 'lunch?', ...naming });
  // Its thread: two replies the Threads view counts, one naming her; one also sent to the room, which counts here.
  await event(roomId, 2, { authorKey: fromBob, text: 'pizza', threadOf: 1 });
  await event(roomId, 3, { authorKey: fromBob, text: '@alice sushi', threadOf: 1, ...naming });
  await event(roomId, 4, { authorKey: fromBob, text: 'noon then', threadOf: 1, alsoToRoom: true });
  await event(roomId, 5, { change: 'reaction', targetSeq: 1, reaction: '👍', added: true, count: 1 });
  const frame = await myRooms(depsOf(alice), 'c');
  expect(frame.rooms.find((r) => r.roomId === roomId)).toMatchObject({ lastSeq: 5, unread: 2, mentions: 1 });
});

it('gives each room its last activity, the second its end was moved at: the key the list is ordered by', async () => {
  const alice = `user:${'K'.repeat(43)}`;
  const active = { KEYAAAA2: '2026-11-24T07:59:58.000Z', KEYBBBB3: '2026-11-24T07:59:59.000Z' };
  for (const [roomId, at] of Object.entries(active)) {
    await roomOf(roomId, 1, alice, 1);
    await db.send(
      new PutCommand({
        TableName: tables.table('RoomsTable'),
        Item: { roomId, seq: 1, createdAt: at, ttl: roomTtl(new Date(at), settings().RoomIdleDays) },
      }),
    );
  }
  const frame = await myRooms(depsOf(alice), 'c');
  expect(frame.rooms.map((r) => [r.roomId, r.activeAt])).toEqual([
    ['KEYBBBB3', Date.parse(active.KEYBBBB3) / 1000],
    ['KEYAAAA2', Date.parse(active.KEYAAAA2) / 1000],
  ]);
});

it('stops counting at 99 and says there are more, after reading at most 100 events of the room', async () => {
  const alice = `user:${'C'.repeat(43)}`;
  const roomId = 'UNREAD02';
  const fromBob = memberKey(roomId, `user:${'B'.repeat(43)}`);
  await roomOf(roomId, 150, alice, 0);
  for (let seq = 1; seq <= 150; seq++) await event(roomId, seq, { authorKey: fromBob, text: `m${seq}` });
  const frame = await myRooms(depsOf(alice), 'c');
  expect(frame.rooms[0]).toMatchObject({ roomId, unread: UNREAD_MAX, unreadMore: true });
  expect(UNREAD_EVENTS_READ).toBe(100);
  // 100 events of reactions first, then a message: the count it can vouch for is 0, with more after.
  const quiet = 'UNREAD03';
  await roomOf(quiet, 101, alice, 0);
  for (let seq = 1; seq <= 100; seq++) await event(quiet, seq, { change: 'reaction', targetSeq: 1 });
  await event(quiet, 101, { authorKey: fromBob, text: 'late' });
  const again = await myRooms(depsOf(alice), 'c');
  expect(again.rooms.find((r) => r.roomId === quiet)).toMatchObject({ unread: 0, unreadMore: true });
});

describe('markread', () => {
  const alice = `user:${'D'.repeat(43)}`;
  const roomId = 'MARKREAD';
  const inRoom = (): ReadDeps =>
    ({
      connections: {
        get: async () => ({
          connectionId: 'c',
          roomId,
          username: 'alice',
          connectedAt: now.toISOString(),
          userId: alice,
        }),
      },
      reads: new DynamoReadPositions(db, {
        memberships: tables.table('MembershipsTable'),
        rooms: tables.table('RoomsTable'),
        connections: tables.table('ConnectionsTable'),
      }),
      now: () => now,
    }) as unknown as ReadDeps;
  const position = async () =>
    (
      await db.send(
        new GetCommand({ TableName: tables.table('MembershipsTable'), Key: { memberKey: alice, roomId } }),
      )
    ).Item?.lastReadSeq;

  it('refuses a position after the room’s latest event, naming it, and stores nothing', async () => {
    await roomOf(roomId, 42, alice, 5);
    await expect(markRead(inRoom(), 'c', 99_999)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining("seq 99999 is after room MARKREAD's latest event, 42"),
    });
    expect(await position()).toBe(5);
    await expect(markRead(inRoom(), 'c', 43)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(await markRead(inRoom(), 'c', 42)).toMatchObject({ lastReadSeq: 42 });
    expect(await position()).toBe(42);
  });

  it('replaces a stored position past the head (kept from before the check) with a real one', async () => {
    await roomOf(roomId, 42, alice, 99_999);
    expect(await markRead(inRoom(), 'c', 40)).toMatchObject({ lastReadSeq: 40 });
    expect(await position()).toBe(40);
  });

  it("reads the room's size on its level's keys, the level from the head's read: a small room costs one Query", async () => {
    await roomOf(roomId, 42, alice, 0);
    const sent: string[] = [];
    const counting = {
      send: (command: { constructor: { name: string }; input: { TableName?: string } }) => {
        sent.push(`${command.constructor.name} ${command.input.TableName?.split('-').pop()}`);
        return db.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    const index = {
      table: tables.table('SubscriptionsTable'),
      index: 'RoomSubscribers',
      rooms: tables.table('RoomsTable'),
    };
    const connections = new DynamoConnectionStore(counting, tables.table('ConnectionsTable'), index);
    await connections.put({ connectionId: 'c', roomId, username: 'alice', connectedAt: now.toISOString() });
    sent.length = 0;
    const published: unknown[] = [];
    const deps = {
      ...inRoom(),
      reads: new DynamoReadPositions(counting, {
        memberships: tables.table('MembershipsTable'),
        rooms: tables.table('RoomsTable'),
        connections: tables.table('ConnectionsTable'),
      }),
      seen: {
        events: { publish: async (event: unknown) => void published.push(event) },
        membersUpTo: (id: string, limit: number, keyLevel: Promise<number>) =>
          connections.membersUpTo(id, limit, undefined, keyLevel),
        maxMembers: 50,
      },
    } as unknown as ReadDeps;
    expect(await markRead(deps, 'c', 42)).toMatchObject({ lastReadSeq: 42 });
    expect(published).toHaveLength(1);
    expect(sent.sort()).toEqual([
      'GetCommand RoomsTable',
      'QueryCommand SubscriptionsTable',
      'UpdateCommand MembershipsTable',
    ]);
  });
});
