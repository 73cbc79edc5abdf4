import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgePublisher } from '#core/aws/eventbridge';
import { disconnect } from '#core/identity/connections';
import { DEPARTURE_PUBLISH_TRIES, LEAVE_GRACE_SECONDS, settleDeparture } from '#core/identity/departure';
import type { Connection, ConnectionStore, Subscribed } from '#core/ports';
import { LIMITS } from '#protocol';

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
