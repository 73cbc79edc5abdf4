import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A connection still in its handshake is answered 410 by API Gateway (its `$connect` has not returned), yet its item
 * is already written: the fan-out must not delete it, or every frame of that client is then UNKNOWN_CONNECTION. A
 * connection past its handshake that answers 410 is gone and is deleted.
 */
const { h, send, seqsOf, recordsOf, indexed, roomWithMembers } = useFanoutMachine();
const { managementApi } = h;

let connections: DynamoConnectionStore;
beforeAll(() => {
  const db = new DynamoDBClient({
    endpoint: h.dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  connections = new DynamoConnectionStore(
    DynamoDBDocumentClient.from(db),
    h.tables.ConnectionsTable as string,
    { table: h.tables.SubscriptionsTable as string, index: 'RoomSubscribers' },
  );
});

/** A member written as `$connect` writes it, `agoMs` before now, then placed in the room. */
async function connectedAgo(roomId: string, connectionId: string, agoMs: number): Promise<string> {
  await connections.put({
    connectionId,
    roomId,
    username: connectionId,
    connectedAt: new Date(Date.now() - agoMs).toISOString(),
  });
  return connectionId;
}

it.each([
  ['a room of one chunk', 'HSQ1', 1],
  ['a room of several chunks', 'HSC1', 6],
])(
  'in %s, a 410 takes a member past its handshake out of the room index and keeps one still in it',
  async (_, roomId, others) => {
    const members = await roomWithMembers(roomId, others);
    const shaking = await connectedAgo(roomId, `${roomId}-shaking=`, 0);
    const gone = await connectedAgo(roomId, `${roomId}-gone=`, 60_000);
    managementApi.gone.add(shaking);
    managementApi.gone.add(gone);
    const run = await h.machine.execute(recordsOf(await send(roomId, 1)));
    expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({ ok: true });
    expect(await indexed(shaking, roomId)).toBe(true);
    expect(await indexed(gone, roomId)).toBe(false);
    for (const id of members) expect(seqsOf(id)).toEqual([1]);
  },
);
