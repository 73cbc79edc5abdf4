import type { ChatEvent, Connection, Notifier } from '#core/ports';
import { ban, slowMode } from '#moderation/moderation';
import { closeRoom, removeMember, rotateKey } from '#moderation/owners';
import { joinRoom } from '#rooms/joining';
import { createRoom } from '#rooms/rooms';
import { useFanoutMachine } from '../helpers/fanoutMachine';
import {
  connectionStore,
  localDocumentClient,
  noHistory,
  roomEntry,
  roomStore,
  sendStore,
} from '../helpers/templateTables';

/**
 * An owner's action in a room of 300 answers its caller having posted only to the person it acts on; the room hears
 * it through the fan-out (docs/DECISIONS.md, "Owner actions reach the room through its fan-out"). The product's use
 * cases run against the local DynamoDB with a notifier that records the route's own posts; what they publish is then
 * handed, as the fan-out queue's records, to the fan-out machine of template.yaml, whose Deliver posts to a fake
 * management API: every member gets the notice there, and a removed person's connection never gets the new key.
 */
jest.setTimeout(240_000);

const MEMBERS = 300;

const { h, addMembers, recordsOf } = useFanoutMachine({
  FanoutPageSize: '1000',
  FanoutChunkSize: '100',
  FanoutMaxConcurrency: '10',
});

let rooms = 0;

/** The owner's room with MEMBERS members seated in it; the ports the route runs on, its posts recorded. */
async function roomOfMany() {
  const db = localDocumentClient(h.dynamo.endpoint);
  const tables = { db, table: (logicalId: string) => h.tables[logicalId] as string };
  const routePosts: { connectionId: string; frame: Record<string, unknown> }[] = [];
  const notifier: Notifier = {
    post: async (connectionId, payload) => {
      routePosts.push({ connectionId, frame: JSON.parse(payload) });
      return 'delivered';
    },
    info: async () => undefined,
  };
  const published: ChatEvent[] = [];
  const deps = {
    connections: connectionStore(tables),
    rooms: roomStore(tables),
    messages: noHistory(),
    entry: roomEntry(tables),
    sends: sendStore(tables),
    events: {
      publish: async (events: ChatEvent[]) => {
        published.push(...events);
      },
    },
    notifier,
    now: () => new Date(),
    messageRetentionDays: 7,
  };
  const owner: Connection = {
    connectionId: `owner${++rooms}=`,
    roomId: 'lobby',
    username: `olive${rooms}`,
    chosenName: `olive${rooms}`,
    userId: `user:olive${rooms}`,
    connectedAt: new Date().toISOString(),
  };
  await deps.connections.put(owner);
  const { roomId } = await createRoom(deps, owner.connectionId);
  const members = await addMembers(roomId, MEMBERS - 1);
  // The one an action names joins through the product's join, as a signed-in person.
  const bob: Connection = {
    connectionId: `bob${rooms}=`,
    roomId: 'lobby',
    username: `bob${rooms}`,
    chosenName: `bob${rooms}`,
    userId: `user:bob${rooms}`,
    connectedAt: new Date().toISOString(),
  };
  await deps.connections.put(bob);
  await joinRoom(deps, bob.connectionId, roomId);
  members.push(bob.connectionId);
  // The owner's own join is not what the tests follow.
  published.length = 0;
  /** What the fan-out posted to a connection, parsed. */
  const received = (connectionId: string) =>
    (h.managementApi.received.get(connectionId) ?? []).map((p) => JSON.parse(p) as Record<string, unknown>);
  /** The published room events through the fan-out machine, as RoomEventsRule and the pipe hand them over. */
  const fanOut = async () => {
    const roomEvents = published.filter((e) => e.roomId === roomId);
    expect(roomEvents.length).toBeGreaterThan(0);
    const run = await h.machine.execute(
      recordsOf(...roomEvents.map(({ type: _, ...detail }) => ({ detail }))),
    );
    expect(run.ok).toBe(true);
  };
  return { deps, owner, bob, roomId, members, routePosts, received, fanOut, db };
}

describe.each([
  ['removemember', removeMember, /removed you/],
  ['ban', ban, /banned/],
])('%s in a room of 300', (_action, act, told) => {
  it('answers having posted only to the removed person; every other member gets the new key from the fan-out', async () => {
    const r = await roomOfMany();
    const target = r.bob.connectionId;
    const reply = await act(r.deps, r.owner.connectionId, r.bob.username);
    expect(reply).toMatchObject({ roomId: r.roomId, removed: 1 });
    // The route told the removed person alone; no member has a frame yet.
    expect(r.routePosts).toEqual([
      {
        connectionId: target,
        frame: { type: 'removed', roomId: r.roomId, message: expect.stringMatching(told) },
      },
    ]);
    expect(r.members.filter((id) => r.received(id).length > 0)).toEqual([]);
    await r.fanOut();
    for (const id of [r.owner.connectionId, ...r.members.filter((m) => m !== target)])
      expect(r.received(id).filter((f) => f.type === 'keyrotated')).toEqual([
        { type: 'keyrotated', roomId: r.roomId, inviteKey: reply.inviteKey },
      ]);
    expect(r.received(target)).toEqual([]);
    r.db.destroy();
  });
});

describe('rotatekey and slowmode in a room of 300', () => {
  it('rotatekey answers without a post of its own; every member gets the new key from the fan-out', async () => {
    const r = await roomOfMany();
    const reply = await rotateKey(r.deps, r.owner.connectionId);
    expect(r.routePosts).toEqual([]);
    await r.fanOut();
    for (const id of r.members)
      expect(r.received(id)).toEqual([{ type: 'keyrotated', roomId: r.roomId, inviteKey: reply.inviteKey }]);
    r.db.destroy();
  });

  it('slowmode answers without a post of its own; every member is told the interval by the fan-out', async () => {
    const r = await roomOfMany();
    expect(await slowMode(r.deps, r.owner.connectionId, 30)).toMatchObject({ type: 'slowmode', seconds: 30 });
    expect(r.routePosts).toEqual([]);
    await r.fanOut();
    for (const id of r.members)
      expect(r.received(id)).toEqual([{ type: 'slowmode', roomId: r.roomId, seconds: 30 }]);
    r.db.destroy();
  });
});

describe('closeroom in a room of 300', () => {
  it('answers without a post of its own; the fan-out moves every member to the lobby and tells each', async () => {
    const r = await roomOfMany();
    expect(await closeRoom(r.deps, r.owner.connectionId)).toMatchObject({
      type: 'roomclosed',
      roomId: r.roomId,
    });
    expect(r.routePosts).toEqual([]);
    // The owner's own connection is moved by the route; the members are still listed for the fan-out's Query.
    expect((await r.deps.connections.get(r.owner.connectionId))?.roomId).toBe('lobby');
    expect((await r.deps.connections.get(r.bob.connectionId))?.roomId).toBe(r.roomId);
    await r.fanOut();
    for (const id of r.members) {
      expect(r.received(id)).toEqual([
        { type: 'roomclosed', roomId: r.roomId, message: expect.stringMatching(/closed by its owner/) },
      ]);
      expect((await r.deps.connections.get(id))?.roomId).toBe('lobby');
      // Off the room's index too: its subscription to the room is gone (the index follows its table).
      expect(await r.deps.connections.subscription(id, r.roomId)).toBeUndefined();
    }
    r.db.destroy();
  });
});
