import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { connect } from '#core/identity/connections';
import { sendMessage } from '#messages/sending';
import { withSendSettings } from '#messages/sendSettings';
import type { SendDeps } from '#messages/sendTypes';
import { connectionStore, sendStore, templateTables } from '../helpers/templateTables';
import { withSettings } from '../helpers/unitSettings';

/**
 * The settings a message obeys, with the route's deps built once per runtime: an operator who changes SendRateLimit
 * or RoomIdleDays in the settings document sees the next message obey it, with no redeploy and no cold start.
 */
const tables = templateTables();
afterEach(() => withSettings());

async function member(roomId: string) {
  const deps: SendDeps = withSendSettings({
    connections: connectionStore(tables),
    sends: sendStore(tables),
    events: { publish: async () => undefined },
    now: () => new Date(),
  });
  await tables.db.send(new PutCommand({ TableName: tables.table('RoomsTable'), Item: { roomId, seq: 0 } }));
  const connectionId = `live-${roomId}`;
  await connect(deps, connectionId, { username: 'ana', userId: `connection:${connectionId}` });
  await deps.connections.moveToRoom(connectionId, roomId, new Date().toISOString(), 'ana');
  const send = (text: string) => sendMessage(deps, { connectionId, text });
  const roomEndsInDays = async () => {
    const { Item } = await tables.db.send(
      new GetCommand({ TableName: tables.table('RoomsTable'), Key: { roomId }, ConsistentRead: true }),
    );
    return Math.round((Number(Item?.ttl) - Date.now() / 1000) / 86400);
  };
  return { deps, send, roomEndsInDays };
}

it('takes MessageRetentionDays from the template, once', async () => {
  const { deps } = await member('LIVE01');
  expect(deps.messageRetentionDays).toBe(7);
});

it('refuses a message past SendRateLimit, and lets the next through once the limit is lifted', async () => {
  const { send } = await member('LIVE02');
  withSettings({ SendRateLimit: 1, SendRateWindowSeconds: 3600 });
  await expect(send('first')).resolves.toMatchObject({ ack: { seq: 1 } });
  await expect(send('second')).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  withSettings({ SendRateLimit: 0 });
  await expect(send('third')).resolves.toMatchObject({ ack: { seq: 2 } });
});

it("moves the room's end by the RoomIdleDays in force at each message", async () => {
  const { send, roomEndsInDays } = await member('LIVE03');
  withSettings({ RoomIdleDays: 2 });
  await send('first');
  expect(await roomEndsInDays()).toBe(2);
  withSettings({ RoomIdleDays: 3 });
  await send('second');
  expect(await roomEndsInDays()).toBe(3);
});
