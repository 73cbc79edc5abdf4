import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatError } from '#core/errors';
import { admitJoin, type GuardDeps } from '#core/limits/guard';
import type { Connection, Room } from '#core/ports';
import { sendMessage } from '#messages/sending';
import { closeRoom, removeMember, rotateKey } from '#moderation/owners';
import { joinRoom } from '#rooms/joining';
import { createRoom } from '#rooms/rooms';
import { roomFanoutStandIn } from '../helpers/roomFanoutStandIn';
import {
  connectionStore,
  noHistory,
  recordingNotifier,
  roomEntry,
  roomStore,
  sendStore,
  templateTables,
} from '../helpers/templateTables';
import { UNIT_SETTINGS, withSettings } from '../helpers/unitSettings';

/**
 * A room's end and its owner's powers, with the real DynamoDB adapters against the local DynamoDB (the template's
 * tables): an ended room is refused for joins and sends while its item still exists, and only the room's creator can
 * rotate its key, remove a member or close it.
 */

const tables = templateTables();

const DAY = 86400;
let n = 0;

/** A world with a clock the test moves, the posts each connection got, and the events published. */
function world() {
  let now = new Date('2026-11-22T12:00:00.000Z');
  const { notifier, posts } = recordingNotifier();
  const connections = connectionStore(tables);
  const rooms = roomStore(tables);
  // The room's notices reach its members through a stand-in of its fan-out.
  const { events, published } = roomFanoutStandIn({ connections, rooms, notifier });
  const deps = {
    connections,
    rooms,
    messages: noHistory(),
    entry: roomEntry(tables),
    sends: sendStore(tables),
    events,
    notifier,
    now: () => now,
    messageRetentionDays: 7,
  };
  const guard: GuardDeps = {
    store: undefined as unknown as GuardDeps['store'],
    closer: { close: async () => undefined },
    limits: {},
    now: () => now,
  };
  /** A connected member: signed in as `user` (a stable id), or by its connection as in AuthMode=none. */
  const member = async (name: string, user?: string): Promise<Connection> => {
    const connectionId = `c${++n}-${name}`;
    const connection: Connection = {
      connectionId,
      roomId: 'lobby',
      username: name,
      chosenName: name,
      userId: user ?? `connection:${connectionId}`,
      connectedAt: now.toISOString(),
    };
    await deps.connections.put(connection);
    return connection;
  };
  const enter = async (who: Connection, roomId: string, key?: string) => {
    const admitted = await admitJoin(deps, guard, { roomId, key, sourceIp: '198.51.100.7' });
    return joinRoom(admitted.deps, who.connectionId, roomId);
  };
  const room = async (roomId: string) =>
    (await tables.db.send(new GetCommand({ TableName: tables.table('RoomsTable'), Key: { roomId } })))
      .Item as Room;
  const whereIs = async (who: Connection) => (await deps.connections.get(who.connectionId))?.roomId;
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a refusal');
      },
      (error: ChatError) => ({ code: error.code, message: error.publicMessage }),
    );
  return {
    deps,
    posts: (who: Connection) => posts.get(who.connectionId) ?? [],
    published,
    member,
    enter,
    room,
    whereIs,
    refusal,
    advance: (days: number) => {
      now = new Date(now.getTime() + days * DAY * 1000);
    },
    send: (who: Connection, text: string) => sendMessage(deps, { connectionId: who.connectionId, text }),
    create: async (owner: Connection) => {
      const joined = await createRoom(deps, owner.connectionId);
      const { inviteKey } = await room(joined.roomId);
      return { roomId: joined.roomId, key: inviteKey as string };
    },
  };
}

/** A created room as createroom leaves it, with its invite key (createroom's entry point adds one). */
async function keyed(w: ReturnType<typeof world>, owner: Connection) {
  const { roomId } = await w.create(owner);
  const key = 'AAAAAAAAAAAAAAAA';
  await tables.db.send(
    new PutCommand({
      TableName: tables.table('RoomsTable'),
      Item: { ...(await w.room(roomId)), inviteKey: key },
    }),
  );
  return { roomId, key };
}

/** A keyed room of `owner` with `members` let in by its key. */
async function keyedWith(w: ReturnType<typeof world>, owner: Connection, ...members: Connection[]) {
  const room = await keyed(w, owner);
  for (const member of members) await w.enter(member, room.roomId, room.key);
  return room;
}

/** Olive's keyed room with bob and carol in it. */
async function roomOfThree() {
  const w = world();
  const owner = await w.member('olive', 'user:olive');
  const bob = await w.member('bob', 'user:bob');
  const carol = await w.member('carol', 'user:carol');
  return { w, owner, bob, carol, ...(await keyedWith(w, owner, bob, carol)) };
}

describe('a room ends RoomIdleDays after its last message', () => {
  it('refuses joins and sends once its TTL passed, while DynamoDB has not deleted it', async () => {
    const w = world();
    const alice = await w.member('alice', 'user:alice');
    const bob = await w.member('bob', 'user:bob');
    const { roomId, key } = await keyed(w, alice);
    w.advance(29);
    await w.send(alice, 'day 29');
    // 30 days after the message, not after the creation: the message moved the end on.
    w.advance(29);
    expect((await w.enter(bob, roomId, key)).roomId).toBe(roomId);
    w.advance(1.01);
    expect(await w.room(roomId)).toBeDefined();
    expect(await w.refusal(w.send(alice, 'late'))).toMatchObject({
      code: 'ROOM_CLOSED',
      message: expect.stringMatching(/expired/),
    });
    const carol = await w.member('carol', 'user:carol');
    expect(await w.refusal(w.enter(carol, roomId, key))).toMatchObject({ code: 'ROOM_CLOSED' });
    expect((await w.room(roomId)).seq).toBe(1);
  });

  it("a new room's end follows the settings document in force when it is created", async () => {
    const w = world();
    const alice = await w.member('alice', 'user:alice');
    try {
      withSettings({ RoomIdleDays: 3 });
      const { roomId } = await w.create(alice);
      const created = (await w.room(roomId)).ttl as number;
      withSettings({ RoomIdleDays: 5 });
      const later = await w.create(alice);
      expect(((await w.room(later.roomId)).ttl as number) - created).toBe(2 * DAY);
    } finally {
      withSettings(UNIT_SETTINGS);
    }
  });

  it('the write that takes the seq itself refuses a room that has ended, taking no seq', async () => {
    const w = world();
    const alice = await w.member('alice', 'user:alice');
    const { roomId } = await w.create(alice);
    const ended = (await w.room(roomId)).ttl as number;
    const outcome = await w.deps.sends.takeSeq(roomId, ended * 1000, {
      nowSeconds: ended,
      ttl: ended + 30 * DAY,
    });
    expect(outcome.kind).toBe('roomGone');
    expect((await w.room(roomId)).seq).toBe(0);
  });
});

describe('rotatekey', () => {
  it('the old key and the code alone are refused, the new key gets in, and members get it', async () => {
    const w = world();
    const owner = await w.member('olive', 'user:olive');
    const mona = await w.member('mona', 'user:mona');
    const late = await w.member('lars', 'user:lars');
    const { roomId, key } = await keyedWith(w, owner, mona);
    const rotated = await rotateKey(w.deps, owner.connectionId);
    expect(rotated.inviteKey).not.toBe(key);
    expect(w.posts(mona)).toEqual([{ type: 'keyrotated', roomId, inviteKey: rotated.inviteKey }]);
    expect(await w.refusal(w.enter(late, roomId, key))).toMatchObject({ code: 'KEY_REPLACED' });
    expect(await w.refusal(w.enter(late, roomId))).toMatchObject({ code: 'ROOM_NOT_FOUND' });
    expect((await w.enter(late, roomId, rotated.inviteKey)).roomId).toBe(roomId);
  });

  it('the owner is the user, not the connection: another connection of the creator may rotate (token modes)', async () => {
    const w = world();
    const tab1 = await w.member('olive', 'user:olive-2');
    const tab2 = await w.member('olive', 'user:olive-2');
    const { roomId, key } = await keyed(w, tab1);
    await w.enter(tab2, roomId, key);
    expect((await rotateKey(w.deps, tab2.connectionId)).roomId).toBe(roomId);
  });
});

describe('removemember', () => {
  it('moves the member out, tells it, the room hears it leave, and its link no longer gets it back in', async () => {
    const { w, owner, bob, carol, roomId, key } = await roomOfThree();
    const reply = await removeMember(w.deps, owner.connectionId, 'bob');
    expect(reply).toMatchObject({ type: 'memberremoved', roomId, username: 'bob', removed: 1 });
    expect(await w.whereIs(bob)).toBe('lobby');
    expect(w.posts(bob)).toEqual([
      { type: 'removed', roomId, message: expect.stringMatching(/removed you/) },
    ]);
    expect(w.posts(carol)).toEqual([{ type: 'keyrotated', roomId, inviteKey: reply.inviteKey }]);
    // The room hears a removal, not a leave of bob's own.
    expect(w.published.map((e) => JSON.parse(e.payload))).toContainEqual({
      type: 'presence',
      roomId,
      event: 'leave',
      username: 'bob',
      reason: 'removed',
    });
    expect(await w.refusal(w.enter(bob, roomId, key))).toMatchObject({ code: 'KEY_REPLACED' });
    expect(await w.refusal(w.enter(bob, roomId))).toMatchObject({ code: 'ROOM_NOT_FOUND' });
    expect(await w.whereIs(carol)).toBe(roomId);
  });

  it('refuses to remove the owner itself', async () => {
    const w = world();
    const owner = await w.member('olive', 'user:olive');
    await w.create(owner);
    expect(await w.refusal(removeMember(w.deps, owner.connectionId, 'olive'))).toMatchObject({
      code: 'BAD_REQUEST',
    });
  });
});

describe('closeroom', () => {
  it('tells every member, moves all to the lobby, and refuses joins and sends from then on', async () => {
    const { w, owner, bob, carol, roomId, key } = await roomOfThree();
    const reply = await closeRoom(w.deps, owner.connectionId);
    expect(reply).toMatchObject({ type: 'roomclosed', roomId });
    // Told and moved by the room's fan-out (its stand-in here; tests/moderation/ownerFanout.test.ts runs the
    // machine).
    expect(w.published).toContainEqual(
      expect.objectContaining({ type: 'Broadcast', roomId, movesOut: expect.any(String) }),
    );
    for (const member of [bob, carol]) {
      expect(w.posts(member)).toEqual([
        { type: 'roomclosed', roomId, message: expect.stringMatching(/closed/) },
      ]);
      expect(await w.whereIs(member)).toBe('lobby');
    }
    expect(await w.whereIs(owner)).toBe('lobby');
    expect(w.posts(owner)).toEqual([]);
    expect(await w.refusal(w.enter(bob, roomId, key))).toMatchObject({
      code: 'ROOM_CLOSED',
      message: expect.stringMatching(/closed by its owner/),
    });
    // A member the close did not reach (it joined as the room closed) can't post there either.
    await tables.db.send(
      new PutCommand({
        TableName: tables.table('ConnectionsTable'),
        Item: { ...(await w.deps.connections.get(carol.connectionId)), roomId },
      }),
    );
    expect(await w.refusal(w.send(carol, 'hello?'))).toMatchObject({ code: 'ROOM_CLOSED' });
    // Its TTL is now: DynamoDB deletes the item.
    expect((await w.room(roomId)).ttl).toBe(Date.parse('2026-11-22T12:00:00.000Z') / 1000);
  });
});

describe('only the owner', () => {
  it.each([
    ['rotatekey', (w: ReturnType<typeof world>, c: Connection) => rotateKey(w.deps, c.connectionId)],
    [
      'removemember',
      (w: ReturnType<typeof world>, c: Connection) => removeMember(w.deps, c.connectionId, 'olive'),
    ],
    ['closeroom', (w: ReturnType<typeof world>, c: Connection) => closeRoom(w.deps, c.connectionId)],
  ])('%s by a member who did not create the room is FORBIDDEN and changes nothing', async (_action, act) => {
    const w = world();
    const owner = await w.member('olive', 'user:olive');
    const mallory = await w.member('mallory', 'user:mallory');
    const { roomId, key } = await keyed(w, owner);
    await w.enter(mallory, roomId, key);
    const before = await w.room(roomId);
    expect(await w.refusal(act(w, mallory))).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/Only the member/),
    });
    expect(await w.room(roomId)).toEqual(before);
    expect(await w.whereIs(owner)).toBe(roomId);
    expect(w.posts(owner)).toEqual([]);
  });

  it('without sign-in the owner is the connection: the same name on a new connection is not the owner', async () => {
    const w = world();
    const first = await w.member('olive');
    const { roomId, key } = await keyed(w, first);
    const again = await w.member('olive');
    await w.enter(again, roomId, key);
    expect(await w.refusal(rotateKey(w.deps, again.connectionId))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('an ended room refuses its owner too, saying it ended', async () => {
    const w = world();
    const owner = await w.member('olive', 'user:olive');
    await w.create(owner);
    w.advance(31);
    expect(await w.refusal(rotateKey(w.deps, owner.connectionId))).toMatchObject({ code: 'ROOM_CLOSED' });
  });
});
