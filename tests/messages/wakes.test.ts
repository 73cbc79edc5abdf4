import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import type { EventPublisher, RoomWake } from '#core/ports';
import { AWAKE_STALE_MS } from '#messages/appending';
import { DynamoSendStore } from '#messages/dynamoSends';
import { sendMessage } from '#messages/sending';
import type { SendDeps } from '#messages/sendTypes';
import { templateTables } from '../helpers/templateTables';

/**
 * Wakes (messages/appending.ts): the fan-out queue takes one wake per room per awake spell, and no message is left
 * without one. Against the local DynamoDB with the real send path: the send that finds the room asleep wakes it, the
 * sends while it is awake do not; once the fan-out puts it to sleep the next send wakes it again; a retry, a waker that
 * failed to store and a take that finds the room awake for too long each wake it themselves; and a send whose seq the
 * fan-out fenced stores its message under a new seq.
 */

const tables = templateTables();
let db: DynamoDBDocumentClient;
let n = 0;
const table = (logicalId: string) => tables.table(logicalId);
const T0 = Date.now();
const sendTables = () => ({
  rooms: table('RoomsTable'),
  messages: table('MessagesTable'),
  sends: table('SendsTable'),
});

beforeAll(() => {
  db = tables.db;
});

/** The room's log as stored: its messages and gap markers, in seq order. */
async function logOf(roomId: string) {
  const { Items = [] } = await db.send(
    new QueryCommand({
      TableName: table('MessagesTable'),
      KeyConditionExpression: 'roomId = :r',
      ExpressionAttributeValues: { ':r': roomId },
      ConsistentRead: true,
    }),
  );
  return Items;
}

/** A room with a sender; `send(at)` sends at that time; the bus's events, by kind; the fan-out's sleep. */
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
  const published: Parameters<EventPublisher['publish']>[0] = [];
  let at = T0;
  const deps: SendDeps = {
    connections: new DynamoConnectionStore(db, table('ConnectionsTable'), {
      table: table('SubscriptionsTable'),
      index: 'RoomSubscribers',
    }),
    sends: sends ?? new DynamoSendStore(db, sendTables()),
    events: {
      publish: async (events) => {
        published.push(...events);
      },
    },
    now: () => new Date(at),
    messageRetentionDays: 7,
  };
  return {
    roomId,
    send: (when: number, clientMsgId?: string) => {
      at = when;
      return sendMessage(deps, { connectionId, text: `hello at ${when}`, clientMsgId });
    },
    wakes: () => published.filter((e): e is RoomWake => e.type === 'RoomWake').map((e) => e.seq),
    messages: () => published.filter((e) => e.type === 'MessageSent'),
    /** The fan-out's sleep, as deliver/dynamoCursor.ts writes it: the mark cleared if the seq is still `seq`. */
    sleep: (seq: number) =>
      db.send(
        new UpdateCommand({
          TableName: table('RoomsTable'),
          Key: { roomId },
          UpdateExpression: 'REMOVE awake',
          ConditionExpression: 'seq = :seq',
          ExpressionAttributeValues: { ':seq': seq },
        }),
      ),
  };
}

it('wakes the room once per awake spell: the send that finds it asleep wakes it, the sends while it is awake do not', async () => {
  const w = await world();
  await w.send(T0);
  await w.send(T0 + 10);
  await w.send(T0 + 20);
  expect(w.wakes()).toEqual([1]);
  // The fan-out posted seqs 1-3 and put the room to sleep: the next send wakes it again.
  await w.sleep(3);
  await w.send(T0 + 30);
  await w.send(T0 + 40);
  expect(w.messages()).toHaveLength(5);
  expect(w.wakes()).toEqual([1, 4]);
});

it('a retry of a clientMsgId wakes the room naming its seq: its first attempt may have died before its publish', async () => {
  const w = await world();
  await w.send(T0, 'c-1');
  await w.send(T0 + 1, 'c-2');
  await w.send(T0 + 2, 'c-2');
  expect(w.wakes()).toEqual([1, 2]);
});

it('a take that finds the room awake for longer than AWAKE_STALE_MS wakes it: the take that woke it may have died', async () => {
  const w = await world();
  await w.send(T0);
  await w.send(T0 + AWAKE_STALE_MS - 1);
  await w.send(T0 + AWAKE_STALE_MS + 1);
  expect(w.wakes()).toEqual([1, 3]);
});

it('a waker whose message could not be stored still wakes the room: the sends that took seqs since count on it', async () => {
  const refusing = new (class extends DynamoSendStore {
    override async put(): Promise<boolean> {
      throw Object.assign(new Error('throughput exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
    }
  })(db, sendTables());
  const w = await world(refusing);
  await expect(w.send(T0)).rejects.toMatchObject({ code: 'BUSY' });
  expect(w.messages()).toHaveLength(0);
  expect(w.wakes()).toEqual([1]);
});

it('a send whose seq the fan-out fenced while it was being stored stores its message under a new seq', async () => {
  let fence = true;
  const fenced = new (class extends DynamoSendStore {
    override async put(...args: Parameters<DynamoSendStore['put']>): Promise<boolean> {
      const [message] = args;
      // The fan-out gave the seq up (deliver/roomLog.ts) just before this put arrives.
      if (fence)
        await db.send(
          new PutCommand({
            TableName: table('MessagesTable'),
            Item: { roomId: message.roomId, seq: message.seq, gap: true, ttl: Math.floor(T0 / 1000) + 3600 },
          }),
        );
      fence = false;
      return super.put(...args);
    }
  })(db, sendTables());
  const w = await world(fenced);
  const { ack } = await w.send(T0, 'c-fenced');
  expect(ack.seq).toBe(2);
  const Items = await logOf(w.roomId);
  expect(Items.map((i) => [i.seq, i.gap === true ? 'gap' : i.text])).toEqual([
    [1, 'gap'],
    [2, `hello at ${T0}`],
  ]);
});

it('a retry whose first attempt died before storing, after the fan-out fenced its seq, stores the message under a new seq', async () => {
  let refuse = true;
  const dying = new (class extends DynamoSendStore {
    override async put(...args: Parameters<DynamoSendStore['put']>): Promise<boolean> {
      if (refuse) {
        refuse = false;
        throw Object.assign(new Error('throughput exceeded'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return super.put(...args);
    }
  })(db, sendTables());
  const w = await world(dying);
  // The first attempt records seq 1 for its clientMsgId, then its put is refused: the record holds seq 1 for a retry.
  await expect(w.send(T0, 'c-died')).rejects.toMatchObject({ code: 'BUSY' });
  // The fan-out waited for seq 1 and fenced it (deliver/roomLog.ts).
  await db.send(
    new PutCommand({
      TableName: table('MessagesTable'),
      Item: { roomId: w.roomId, seq: 1, gap: true, ttl: Math.floor(T0 / 1000) + 3600 },
    }),
  );
  const { ack } = await w.send(T0 + 2_000, 'c-died');
  expect(ack.seq).toBe(2);
  const Items = await logOf(w.roomId);
  expect(Items.map((i) => [i.seq, i.gap === true ? 'gap' : i.messageId])).toEqual([
    [1, 'gap'],
    [2, ack.messageId],
  ]);
  // A later retry of the same clientMsgId is answered from the moved record: the same ack, nothing stored again.
  expect((await w.send(T0 + 3_000, 'c-died')).ack).toEqual(ack);
});
