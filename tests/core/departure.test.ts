import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '#core/aws/eventbridge';
import { disconnect } from '#core/identity/connections';
import {
  DEPARTURE_OPEN_MS,
  DEPARTURE_PUBLISH_TRIES,
  LEAVE_GRACE_SECONDS,
  notReturning,
  settleDeparture,
} from '#core/identity/departure';
import { DynamoDepartureRecords } from '#core/identity/dynamoDepartures';
import type { Connection, ConnectionStore, EventPublisher, Room, Subscribed } from '#core/ports';
import { DynamoMessageStore } from '#messages/dynamoMessages';
import { LIMITS } from '#protocol';
import { subscribe } from '#rooms/subscribing';
import {
  connectionStore,
  roomEntry,
  roomStore,
  startTemplateTables,
  type TemplateTables,
} from '../helpers/templateTables';

/**
 * Leaving on close, bounded (docs/DECISIONS.md, "Leaving on close"): `$disconnect` of a connection following
 * LIMITS.subscriptionsMax rooms puts one entry on the bus, retried when PutEvents fails; after the pause, the rooms
 * the person is not back in each get one leave, ten to a PutEvents call.
 */
const bus = mockClient(EventBridgeClient);
const publisher = () => new EventBridgePublisher(new EventBridgeClient({}), 'chat', 'roomcast.chat');
afterEach(() => bus.reset());

const ROOMS = LIMITS.subscriptionsMax;
const followed: Subscribed[] = Array.from({ length: ROOMS }, (_, i) => ({
  roomId: `ROOM${String(i).padStart(4, '0')}`,
  // The longest name the protocol allows, in four-byte characters: the largest departure there can be.
  username: '😀'.repeat(LIMITS.usernameMaxChars),
}));
const gone: Connection & { followed: Subscribed[] } = {
  connectionId: 'c-1',
  roomId: followed[0]?.roomId as string,
  username: followed[0]?.username as string,
  userId: 'user:pat',
  connectedAt: '2026-01-01T00:00:00.000Z',
  followed,
};
const connections = { remove: async () => gone } as unknown as ConnectionStore;

/** Every entry PutEvents was sent, call by call. */
const entries = () => bus.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);

it(`puts one entry on the bus for a connection following ${ROOMS} rooms, naming them all, well within PutEvents' size`, async () => {
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  await disconnect({ connections, events: publisher() }, 'c-1');
  expect(entries().map((call) => call.length)).toEqual([1]);
  const [entry] = entries()[0] ?? [];
  expect(entry?.DetailType).toBe('Departed');
  const detail = JSON.parse(entry?.Detail ?? '{}');
  expect(detail.rooms).toHaveLength(ROOMS);
  expect(detail).toMatchObject({ userId: 'user:pat', waitSeconds: LEAVE_GRACE_SECONDS });
  // PutEvents takes 256 KB a request (EventBridge user guide, "Amazon EventBridge quotas").
  expect(Buffer.byteLength(entry?.Detail ?? '')).toBeLessThan(64 * 1024);
});

it("carries the close's time, from which its settle counts a storm's stretch however late its machine starts", async () => {
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  const closedAt = Date.UTC(2026, 10, 29, 1, 0, 0, 200);
  await disconnect({ connections, events: publisher(), now: () => new Date(closedAt) }, 'c-1');
  const [entry] = entries()[0] ?? [];
  expect(JSON.parse(entry?.Detail ?? '{}')).toMatchObject({ userId: 'user:pat', closedAt });
});

it('publishes the departure again when PutEvents fails, so the rooms are still told', async () => {
  bus
    .on(PutEventsCommand)
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
    .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
  await disconnect({ connections, events: publisher() }, 'c-1');
  expect(entries().map((call) => call.map((e) => e.DetailType))).toEqual([['Departed'], ['Departed']]);
});

it(`gives up after ${DEPARTURE_PUBLISH_TRIES} tries without failing the close`, async () => {
  bus.on(PutEventsCommand).rejects(Object.assign(new Error('down'), { name: 'InternalException' }));
  await expect(disconnect({ connections, events: publisher() }, 'c-1')).resolves.toMatchObject({
    connectionId: 'c-1',
  });
  expect(entries()).toHaveLength(DEPARTURE_PUBLISH_TRIES);
});

it('after the pause, tells only the rooms the person is not back in under the same name, ten to a call', async () => {
  bus.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map(() => ({ EventId: 'e' })),
  }));
  // Back on another device in the first 60 rooms, under another name in 5 of them.
  const back = followed.slice(0, 60).map((s, i) => (i < 5 ? { roomId: s.roomId, username: 'pat (2)' } : s));
  const asked: string[] = [];
  const people = {
    roomsOf: async (userId: string) => {
      asked.push(userId);
      return back;
    },
  };
  const result = await settleDeparture(
    { people, events: publisher() },
    { userId: 'user:pat', rooms: followed, waitSeconds: LEAVE_GRACE_SECONDS },
  );
  expect(result).toEqual({ left: 45, stayed: 55 });
  expect(asked).toEqual(['user:pat']);
  expect(entries().map((call) => call.length)).toEqual([10, 10, 10, 10, 5]);
  const told = entries()
    .flat()
    .map((e) => JSON.parse(e.Detail ?? '{}').roomId);
  expect(told).toEqual([...followed.slice(0, 5), ...followed.slice(60)].map((s) => s.roomId));
});

it('tells every room of a departure without sign-in, reading nothing', async () => {
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
  const people = { roomsOf: jest.fn(async () => followed) };
  const result = await settleDeparture(
    { people, events: publisher() },
    { rooms: followed.slice(0, 3), waitSeconds: LEAVE_GRACE_SECONDS },
  );
  expect(result).toEqual({ left: 3, stayed: 0 });
  expect(people.roomsOf).not.toHaveBeenCalled();
});

it.each([
  ['no rooms', { userId: 'user:pat' }],
  ['a room without a name', { rooms: [{ roomId: 'R' }] }],
  ['too many rooms', { rooms: Array.from({ length: ROOMS + 2 }, () => ({ roomId: 'R', username: 'x' })) }],
])('refuses a departure with %s, publishing nothing', async (_, input) => {
  const people = { roomsOf: async () => [] };
  await expect(settleDeparture({ people, events: publisher() }, input)).rejects.toThrow(TypeError);
  expect(entries()).toEqual([]);
});

/**
 * The return (docs/DECISIONS.md, "Leaving on close"): `$disconnect` of a signed-in user records the rooms it left
 * (`departed#<userId>`), and a `subscribe` of the same user before the departure machine settles it (however long
 * that takes, up to DEPARTURE_OPEN_MS) publishes no join for a room the record names under the same name; once
 * settled, a return is told as a join. Real DynamoDB adapters against the local DynamoDB; the bus is a list.
 */
describe('a return within the pause', () => {
  const ROOMS = ['RETAAAAA', 'RETBBBBB', 'RETCCCCC'];
  let clock = Date.parse('2026-03-01T12:00:00.000Z');
  /** Every presence event published, as `<event> <roomId> <username>`. */
  const told: string[] = [];

  let tables: TemplateTables;
  beforeAll(async () => {
    tables = await startTemplateTables();
    for (const roomId of ROOMS)
      await tables.db.send(
        new PutCommand({
          TableName: tables.table('RoomsTable'),
          Item: { roomId, createdAt: new Date(clock).toISOString(), seq: 0, ownerId: 'user:olive' },
        }),
      );
  });
  afterAll(async () => {
    await tables.close();
  });

  function ports() {
    const connections = connectionStore(tables);
    const rooms = roomStore(tables);
    return {
      connections,
      rooms,
      entry: roomEntry(tables),
      messages: new DynamoMessageStore(
        tables.db,
        tables.table('MessagesTable'),
        tables.table('ReactionsTable'),
      ),
      events: {
        publish: async (events: Parameters<EventPublisher['publish']>[0]) =>
          void told.push(
            ...events.flatMap((e) => {
              if (!('payload' in e) || typeof e.payload !== 'string') return [];
              const p = JSON.parse(e.payload) as { event: string; roomId: string; username: string };
              return [`${p.event} ${p.roomId} ${p.username}`];
            }),
          ),
      },
      departures: new DynamoDepartureRecords(tables.db, tables.table('LimitsTable')),
      now: () => new Date(clock),
      admit: async ({ roomId }: { roomId: string }) => (await rooms.get(roomId)) as Room,
    };
  }

  /** A new connection of `userId` (none: a guest) shown as `username`, following `rooms` in one subscribe. */
  async function connectAndFollow(
    connectionId: string,
    userId: string | undefined,
    username: string,
    rooms: string[],
  ) {
    const p = ports();
    await p.connections.put({
      connectionId,
      roomId: 'lobby',
      username,
      ...(userId !== undefined && { userId }),
      connectedAt: new Date(clock).toISOString(),
    });
    const frame = await subscribe(
      p,
      connectionId,
      rooms.map((roomId) => ({ roomId })),
    );
    expect(frame.refused).toEqual([]);
  }

  /** The presence told since the last call, in room order (subscribe follows five rooms at a time). */
  const toldSince = () => told.splice(0).sort();

  const record = async (owner: string) =>
    (
      await tables.db.send(
        new GetCommand({ TableName: tables.table('LimitsTable'), Key: { limitKey: `departed#${owner}` } }),
      )
    ).Item;

  /** The departure machine's step for `connectionId`'s close: the person is where `live` connections follow. */
  async function settle(owner: string, rooms: string[], username: string, live: string[]) {
    const p = ports();
    const people = {
      roomsOf: async () => (await Promise.all(live.map((id) => p.connections.followed(id)))).flat(),
    };
    const messageId = String((await record(owner))?.departureId);
    const input = { userId: owner, messageId, rooms: rooms.map((roomId) => ({ roomId, username })) };
    return settleDeparture({ people, events: p.events, departures: p.departures }, input);
  }

  it('publishes no join for the rooms the departure names until it is settled, one for a room it does not, and all after', async () => {
    const [a, b, c] = ROOMS as [string, string, string];
    await connectAndFollow('pat-1', 'user:pat', 'pat', [a, b]);
    expect(toldSince()).toEqual([`join ${a} pat`, `join ${b} pat`]);
    await disconnect(ports(), 'pat-1');
    expect(await record('user:pat')).toMatchObject({
      departureId: expect.any(String),
      rooms: { [a]: 'pat', [b]: 'pat' },
      openUntil: clock + DEPARTURE_OPEN_MS,
    });

    // Back long past the pause (a slow machine, a cold Lambda) but before the departure machine settled the close,
    // following a third room too: only that one hears a join, and the settle then tells no leave.
    clock += LEAVE_GRACE_SECONDS * 1000 * 10;
    await connectAndFollow('pat-2', 'user:pat', 'pat', ROOMS);
    expect(toldSince()).toEqual([`join ${c} pat`]);
    expect(await settle('user:pat', [a, b], 'pat', ['pat-2'])).toEqual({ left: 0, stayed: 2 });
    expect(toldSince()).toEqual([]);

    // Another person joining meanwhile is told as ever.
    await connectAndFollow('quinn-1', 'user:quinn', 'quinn', [a]);
    expect(toldSince()).toEqual([`join ${a} quinn`]);

    // Closed again, settled (every room told the leave), then back: a join per room, however soon.
    await disconnect(ports(), 'pat-2');
    expect(await settle('user:pat', ROOMS, 'pat', [])).toEqual({ left: 3, stayed: 0 });
    expect(toldSince()).toEqual([`leave ${a} pat`, `leave ${b} pat`, `leave ${c} pat`]);
    await connectAndFollow('pat-3', 'user:pat', 'pat', [a, b]);
    expect(toldSince()).toEqual([`join ${a} pat`, `join ${b} pat`]);
    await disconnect(ports(), 'pat-3');
  });

  it('publishes no join for a return processed while the close is mid-way, its connection forgotten but nothing published yet', async () => {
    const [a, b] = ROOMS as [string, string];
    await connectAndFollow('uma-1', 'user:uma', 'uma', [a, b]);
    toldSince();
    // The close stops right after its connection and subscriptions are deleted, as a slow `$disconnect` may.
    let resume: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let deleted: () => void = () => undefined;
    const forgotten = new Promise<void>((resolve) => {
      deleted = resolve;
    });
    const p = ports();
    const slow = {
      ...p,
      connections: Object.assign(Object.create(p.connections) as typeof p.connections, {
        remove: async (id: string) => {
          const gone = await p.connections.remove(id);
          deleted();
          await paused;
          return gone;
        },
      }),
    };
    const closing = disconnect(slow, 'uma-1');
    await forgotten;
    await connectAndFollow('uma-2', 'user:uma', 'uma', [a, b]);
    expect(toldSince()).toEqual([]);
    resume();
    await closing;
    expect(await settle('user:uma', [a, b], 'uma', ['uma-2'])).toEqual({ left: 0, stayed: 2 });
    expect(toldSince()).toEqual([]);
    await disconnect(ports(), 'uma-2');
  });

  it('keeps a later close open when an earlier departure is settled, and ends a departure never settled', async () => {
    const [a, b] = ROOMS as [string, string];
    await connectAndFollow('tess-1', 'user:tess', 'tess', [a]);
    await connectAndFollow('tess-2', 'user:tess', 'tess', [b]);
    toldSince();
    await disconnect(ports(), 'tess-1');
    const first = String((await record('user:tess'))?.departureId);
    await disconnect(ports(), 'tess-2');
    // The first close's step runs after the second close replaced the record: the second stays open.
    const p = ports();
    const none = { roomsOf: async () => [] };
    const input = { userId: 'user:tess', messageId: first, rooms: [{ roomId: a, username: 'tess' }] };
    await settleDeparture({ people: none, events: p.events, departures: p.departures }, input);
    expect(toldSince()).toEqual([`leave ${a} tess`]);
    await connectAndFollow('tess-3', 'user:tess', 'tess', [b]);
    expect(toldSince()).toEqual([]);
    await disconnect(ports(), 'tess-3');

    // A departure whose machine never ran is open no longer than DEPARTURE_OPEN_MS.
    clock += DEPARTURE_OPEN_MS;
    await connectAndFollow('tess-4', 'user:tess', 'tess', [b]);
    expect(toldSince()).toEqual([`join ${b} tess`]);
    await disconnect(ports(), 'tess-4');
  });

  /** Every departure record in the Limits table, by key. */
  const records = async () =>
    ((await tables.db.send(new ScanCommand({ TableName: tables.table('LimitsTable') }))).Items ?? [])
      .map((item) => String(item.limitKey))
      .filter((key) => key.startsWith('departed#'))
      .sort();

  it('records nothing for a guest, whose return is told as a join', async () => {
    const [a] = ROOMS as [string];
    await connectAndFollow('guest-1', undefined, 'gus', [a]);
    const before = await records();
    await disconnect(ports(), 'guest-1');
    expect(await records()).toEqual(before);
    await connectAndFollow('guest-2', undefined, 'gus', [a]);
    expect(toldSince()).toEqual([`join ${a} gus`, `join ${a} gus`]);
  });

  it('closes and publishes the departure when the record cannot be written; the return is then told as a join', async () => {
    const [a] = ROOMS as [string];
    await connectAndFollow('rae-1', 'user:rae', 'rae', [a]);
    toldSince();
    const published: string[] = [];
    const refusing = {
      ...ports(),
      events: {
        publish: async (events: Parameters<EventPublisher['publish']>[0]) =>
          void published.push(...events.map((e) => e.type)),
      },
      departures: { put: () => Promise.reject(new Error('ProvisionedThroughputExceededException')) },
    };
    await expect(disconnect(refusing, 'rae-1')).resolves.toMatchObject({ connectionId: 'rae-1' });
    expect(published).toEqual(['Departed']);
    await connectAndFollow('rae-2', 'user:rae', 'rae', [a]);
    expect(toldSince()).toEqual([`join ${a} rae`]);
  });
});

it('tells the join of a return under another name than the one the departure names', async () => {
  const departures = {
    latest: async () => ({
      departureId: 'd-1',
      rooms: [{ roomId: 'ROOMAAAA', username: 'pat' }],
      openUntil: 2_000,
    }),
  };
  const joined = [
    { roomId: 'ROOMAAAA', username: 'pat (2)' },
    { roomId: 'ROOMAAAA', username: 'pat' },
  ];
  const told = await notReturning({ departures, now: () => new Date(1_000) }, 'user:pat', joined);
  expect(told).toEqual([{ roomId: 'ROOMAAAA', username: 'pat (2)' }]);
});
