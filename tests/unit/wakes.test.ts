import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import type { ChatEvent, RoomWake } from '#core/ports';
import { STRAGGLER_MS, WAKE_TICK_MS } from '#messages/appending';
import { DynamoSendStore } from '#messages/dynamoSends';
import { type SendDeps, sendMessage } from '#messages/sending';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * Wakes (messages/appending.ts): the fan-out queue takes at most one wake per room per 100 ms tick, and no message
 * is left without one. Against the local DynamoDB with the real send path: the first send of a tick wakes the room,
 * the others of the tick do not; a retry, a straggler and a waker that failed to store each wake it themselves.
 */

let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let n = 0;
const table = (logicalId: string) => tables.table(logicalId);
/** A time at the start of a tick. */
const T0 = Math.ceil(Date.now() / WAKE_TICK_MS) * WAKE_TICK_MS;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
});

afterAll(async () => {
  await tables.close();
});

/** A room with a sender; `send(at)` sends at that time (the seq take's `seqAt`); the bus's events, by kind. */
async function world(sends?: DynamoSendStore) {
  const roomId = `W${++n}`;
  const connectionId = `wake-conn-${n}`;
  await db.send(new PutCommand({ TableName: table('RoomsTable'), Item: { roomId, seq: 0 } }));
  await db.send(
    new PutCommand({
      TableName: table('ConnectionsTable'),
      Item: { connectionId, roomId, username: `wendy-${n}`, connectedAt: new Date().toISOString() },
    }),
  );
  const published: (ChatEvent | RoomWake)[] = [];
  let at = T0;
  const deps: SendDeps = {
    connections: new DynamoConnectionStore(db, table('ConnectionsTable'), {
      table: table('SubscriptionsTable'),
      index: 'RoomSubscribers',
    }),
    sends:
      sends ??
      new DynamoSendStore(db, {
        rooms: table('RoomsTable'),
        messages: table('MessagesTable'),
        sends: table('SendsTable'),
      }),
    events: {
      publish: async (events) => {
        published.push(...events);
      },
    },
    now: () => new Date(at),
    messageRetentionDays: 7,
    roomIdleDays: 30,
  };
  return {
    roomId,
    send: (when: number, clientMsgId?: string) => {
      at = when;
      return sendMessage(deps, { connectionId, text: `hello at ${when}`, clientMsgId });
    },
    wakes: () => published.filter((e): e is RoomWake => e.type === 'RoomWake'),
    messages: () => published.filter((e) => e.type === 'MessageSent'),
  };
}

it('wakes the room once per tick: the first send of a tick wakes it, the others of the tick ride its wake', async () => {
  const w = await world();
  await w.send(T0 + 1);
  await w.send(T0 + 30);
  await w.send(T0 + 90);
  await w.send(T0 + WAKE_TICK_MS + 1);
  expect(w.messages()).toHaveLength(4);
  expect(w.wakes()).toEqual([
    { type: 'RoomWake', messageId: `wake:${w.roomId}:1`, roomId: w.roomId, seq: 1, tick: T0 / WAKE_TICK_MS },
    {
      type: 'RoomWake',
      messageId: `wake:${w.roomId}:4`,
      roomId: w.roomId,
      seq: 4,
      tick: T0 / WAKE_TICK_MS + 1,
    },
  ]);
});

it('a retry of a clientMsgId wakes the room naming its seq: it cannot know whether the first publish went out', async () => {
  const w = await world();
  await w.send(T0 + 1, 'c-1');
  await w.send(T0 + 2, 'c-2');
  await w.send(T0 + 3, 'c-2');
  const wakes = w.wakes();
  expect(wakes.map((e) => e.seq)).toEqual([1, 2]);
  // The retry's wake names its seq and no tick: the fan-out posts that seq even if its cursor passed it.
  expect(wakes[1]).not.toHaveProperty('tick');
});

it('a send whose store ends more than STRAGGLER_MS after its take wakes the room itself', async () => {
  const slow = new (class extends DynamoSendStore {
    override async put(...args: Parameters<DynamoSendStore['put']>) {
      await new Promise((resolve) => setTimeout(resolve, STRAGGLER_MS + 100));
      return super.put(...args);
    }
  })(db, { rooms: table('RoomsTable'), messages: table('MessagesTable'), sends: table('SendsTable') });
  const w = await world(slow);
  await w.send(T0 + 1);
  await w.send(T0 + 2);
  // The second is no waker (same tick), but stored late: its own wake, naming its seq.
  expect(w.wakes().map((e) => [e.seq, 'tick' in e])).toEqual([
    [1, true],
    [2, false],
  ]);
}, 10_000);

it('a waker whose message could not be stored still wakes the room: the other sends of its tick count on it', async () => {
  const refusing = new (class extends DynamoSendStore {
    override async put(): Promise<boolean> {
      throw Object.assign(new Error('throughput exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
  })(db, { rooms: table('RoomsTable'), messages: table('MessagesTable'), sends: table('SendsTable') });
  const w = await world(refusing);
  await expect(w.send(T0 + 1)).rejects.toMatchObject({ code: 'BUSY' });
  expect(w.messages()).toHaveLength(0);
  expect(w.wakes()).toEqual([
    { type: 'RoomWake', messageId: `wake:${w.roomId}:1`, roomId: w.roomId, seq: 1, tick: T0 / WAKE_TICK_MS },
  ]);
});
