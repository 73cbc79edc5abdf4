import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { connect, disconnect } from '../../functions/domain/identity/connections';
import type { ChatEvent } from '../../functions/domain/ports';
import { DynamoConnectionStore } from '../../functions/platform/aws/connections';
import { ROOM_INDEX_SHARDS } from '../../functions/platform/aws/roomMembers';
import { loadTemplate } from '../../infra/template';
import { type LocalDynamo, startDynamo } from '../../local/dynamodb';
import { localDocumentClient } from '../helpers/templateTables';

/**
 * The lobby is no hot key (docs/ARCHITECTURE.md and docs/PERFORMANCE.md, "Hot keys"): a reconnect storm at API
 * Gateway's 500 new connections/s puts every connection in the lobby, and each subscription is an entry of the room
 * index (RoomSubscribers). On the
 * twin's per-key accounting (local/dynamoKeyThroughput.ts), with its clock held so the whole burst falls in one
 * second, the busiest index key takes about a tenth of the burst, far under DynamoDB's 1,000 writes/s per key; the
 * room index as it was (every lobby connection under the one key `lobby`) took all of it.
 */
jest.setTimeout(120_000);

const BURST = 500;
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const table = (logicalId: string) =>
  template.tables().find((t) => t.logicalId === logicalId)?.TableName ?? '';
const connectionsTable = table('ConnectionsTable');
const subscriptionsTable = table('SubscriptionsTable');

let dynamo: LocalDynamo;
let clock = 1_000_000;
beforeAll(async () => {
  dynamo = await startDynamo({ tables: template.tables(), keyThroughputNow: () => clock });
});
afterAll(async () => {
  await dynamo.close();
});
beforeEach(async () => {
  clock += 5_000;
  await dynamo.resetKeyStats();
});

/** An id shaped like API Gateway's (12 base64 characters and `=`). */
const connectionId = () => `${randomBytes(9).toString('base64').replace(/[+/]/g, 'x')}=`;

async function indexKeys() {
  const stats = await dynamo.keyStats({ table: subscriptionsTable });
  return stats.filter((s) => s.index === 'RoomSubscribers');
}

it(`${BURST} connects in one second write no room index key more than ${BURST / ROOM_INDEX_SHARDS} times over, nothing throttled`, async () => {
  const db = localDocumentClient(dynamo.endpoint, 1);
  const connections = new DynamoConnectionStore(db, connectionsTable, {
    table: subscriptionsTable,
    index: 'RoomSubscribers',
  });
  const now = () => new Date(clock);
  const ids = Array.from({ length: BURST }, connectionId);
  await Promise.all(
    ids.map((id) =>
      connect({ connections, now }, id, { username: `guest-${id.slice(0, 4)}`, userId: `connection:${id}` }),
    ),
  );
  const keys = await indexKeys();
  expect(keys.map((k) => k.key).sort()).toEqual(
    Array.from({ length: ROOM_INDEX_SHARDS }, (_, n) => `S:lobby#${n}`).sort(),
  );
  const busiest = Math.max(...keys.map((k) => k.peakWritesPerSecond));
  const total = keys.reduce((sum, k) => sum + k.writes, 0);
  expect(total).toBe(BURST);
  expect(keys.every((k) => k.throttledWrites === 0)).toBe(true);
  // 50 on average; a hash's spread over 10 keys puts the busiest within half as much again.
  expect(busiest).toBeLessThanOrEqual((BURST / ROOM_INDEX_SHARDS) * 1.5);
  console.info(`hot keys: ${BURST} connects in one second, busiest room index key ${busiest} writes/s`);

  // The storm's other half, the old connections' $disconnect, removes index entries over the same keys.
  clock += 5_000;
  await dynamo.resetKeyStats();
  const events = { publish: async (_: ChatEvent[]) => undefined };
  await Promise.all(ids.map((id) => disconnect({ connections, events }, id)));
  const removed = await indexKeys();
  expect(removed.reduce((sum, k) => sum + k.writes, 0)).toBe(BURST);
  expect(Math.max(...removed.map((k) => k.peakWritesPerSecond))).toBeLessThanOrEqual(
    (BURST / ROOM_INDEX_SHARDS) * 1.5,
  );
  db.destroy();
});

it(`the index as it was, every lobby connection under one key: that key took all ${BURST} writes in the second`, async () => {
  const db = localDocumentClient(dynamo.endpoint, 1);
  await Promise.all(
    Array.from({ length: BURST }, connectionId).map((id) =>
      db.send(
        new PutCommand({
          TableName: subscriptionsTable,
          Item: { connectionId: id, roomId: 'lobby', roomKey: 'lobby', username: 'guest' },
        }),
      ),
    ),
  );
  const [busiest] = await indexKeys();
  expect(busiest).toMatchObject({ key: 'S:lobby', writes: BURST, peakWritesPerSecond: BURST });
  db.destroy();
});
