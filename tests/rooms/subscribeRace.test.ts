import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Room } from '#core/ports';
import { DynamoMessageStore } from '#messages/dynamoMessages';
import { subscribe } from '#rooms/subscribing';
import { connectionStore, roomEntry, roomStore, templateTables } from '../helpers/templateTables';

/**
 * A `subscribe` admitted with a room's invite key follows it only while the room still has that key: an owner's key
 * rotation or removal that commits between the admission and the subscription's write shuts it out (the write is one
 * transaction with the check of the connection's gate into the room, which the rotation rewrote: dynamoEntry.ts
 * follow), and the room it had counted is given back. Real DynamoDB adapters against the local DynamoDB.
 */

const tables = templateTables();

const OLD_KEY = 'AAAAAAAAAAAAAAAA';
const NEW_KEY = 'BBBBBBBBBBBBBBBB';

function ports() {
  const connections = connectionStore(tables);
  const rooms = roomStore(tables);
  const entry = roomEntry(tables);
  const published: string[] = [];
  return {
    connections,
    rooms,
    entry,
    messages: new DynamoMessageStore(
      tables.db,
      tables.table('MessagesTable'),
      tables.table('ReactionsTable'),
    ),
    events: {
      publish: async (events: object[]) =>
        void published.push(
          ...events.flatMap((e) => ('payload' in e && typeof e.payload === 'string' ? [e.payload] : [])),
        ),
    },
    now: () => new Date(),
    published,
  };
}

async function roomWithKey(roomId: string, inviteKey: string): Promise<Room> {
  const room: Room = {
    roomId,
    createdAt: new Date().toISOString(),
    seq: 0,
    inviteKey,
    keyRequired: true,
    ownerId: 'user:olive',
  };
  await tables.db.send(new PutCommand({ TableName: tables.table('RoomsTable'), Item: room }));
  return room;
}

it('a key rotated between the admission and the write refuses the room, writes nothing and gives its count back', async () => {
  const p = ports();
  const admittedRoom = await roomWithKey('RACEAAAA', OLD_KEY);
  await p.connections.put({
    connectionId: 'race-1',
    roomId: 'lobby',
    username: 'ivy',
    connectedAt: new Date().toISOString(),
  });
  const frame = await subscribe(
    {
      ...p,
      // Admitted with the old key; the owner's rotation commits before the subscription is written.
      admit: async () => {
        await p.rooms.changeAsOwner('RACEAAAA', 'user:olive', Math.floor(Date.now() / 1000), {
          kind: 'rotateKey',
          inviteKey: NEW_KEY,
        });
        return admittedRoom;
      },
    },
    'race-1',
    [{ roomId: 'RACEAAAA', key: OLD_KEY }],
  );
  expect(frame.rooms).toEqual([]);
  expect(frame.refused).toEqual([expect.objectContaining({ roomId: 'RACEAAAA', code: 'ROOM_NOT_FOUND' })]);
  expect(p.published).toEqual([]);
  const subscription = await tables.db.send(
    new GetCommand({
      TableName: tables.table('SubscriptionsTable'),
      Key: { connectionId: 'race-1', roomId: 'RACEAAAA' },
    }),
  );
  expect(subscription.Item).toBeUndefined();
  const connection = await p.connections.get('race-1');
  expect(Number((connection as { subscriptionCount?: number }).subscriptionCount ?? 0)).toBe(0);

  // Admitted with the current key, it follows, and the room hears the join once.
  const followed = await subscribe(
    { ...p, admit: async () => (await p.rooms.get('RACEAAAA')) as Room },
    'race-1',
    [{ roomId: 'RACEAAAA', key: NEW_KEY }],
  );
  expect(followed.rooms).toEqual([expect.objectContaining({ roomId: 'RACEAAAA', memberCount: 1 })]);
  expect(p.published).toEqual([expect.stringContaining('"event":"join"')]);
});
