import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import { ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { connect, disconnect } from '#core/identity/connections';
import { PEOPLE_INDEX_SHARDS } from '#core/peopleKeys';
import type { ChatEvent } from '#core/ports';
import { DynamoPeopleStore } from '#people/dynamoPeople';
import { DynamoMembershipStore } from '#rooms/dynamoMemberships';
import { loadTemplate } from '../../tools/infra/template';
import { type LocalDynamo, startDynamo } from '../../tools/local/dynamodb';
import { localDocumentClient } from '../helpers/templateTables';

/**
 * The lobby is no hot key (docs/ARCHITECTURE.md and docs/PERFORMANCE.md, "Hot keys"): a reconnect storm at API
 * Gateway's 500 new connections/s puts every connection in the lobby, and each subscription is an entry of the room
 * index (RoomSubscribers). On the
 * twin's per-key accounting (tools/local/dynamoKeyThroughput.ts), with its clock held so the whole burst falls in one
 * second, the busiest index key takes about a tenth of the burst, far under DynamoDB's 1,000 writes/s per key; the
 * room index as it was (every lobby connection under the one key `lobby`) took all of it. The same for the
 * memberships' PeopleIndex at a 5,000-member room's signed-in join burst.
 */
jest.setTimeout(240_000);

const BURST = 500;
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const table = (logicalId: string) =>
  template.tables().find((t) => t.logicalId === logicalId)?.TableName ?? '';
const connectionsTable = table('ConnectionsTable');
const subscriptionsTable = table('SubscriptionsTable');
const membershipsTable = table('MembershipsTable');
const peopleIndex =
  template.tables().find((t) => t.logicalId === 'MembershipsTable')?.GlobalSecondaryIndexes?.[0]?.IndexName ??
  '';

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

const JOIN_BURST = 5_000;

/** `work` on every item, at most `limit` at a time. */
async function inFlight<T>(limit: number, items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

async function peopleIndexKeys() {
  const stats = await dynamo.keyStats({ table: membershipsTable });
  return stats.filter((s) => s.index === peopleIndex);
}

it(`a ${JOIN_BURST}-member signed-in join burst in one second writes no PeopleIndex key more than ${(JOIN_BURST / PEOPLE_INDEX_SHARDS) * 1.2} times, nothing throttled, and findpeople still finds them in name order`, async () => {
  const db = localDocumentClient(dynamo.endpoint, 1);
  const memberships = new DynamoMembershipStore(db, {
    memberships: membershipsTable,
    rooms: table('RoomsTable'),
    connections: connectionsTable,
    messages: table('MessagesTable'),
  });
  const at = new Date(clock).toISOString();
  const members = Array.from({ length: JOIN_BURST }, (_, i) => ({
    userId: `user:${randomBytes(32).toString('base64url')}`,
    name: `member ${String(i).padStart(4, '0')}`,
  }));
  // All within the held second, 50 requests in flight at a time (the SDK's sockets): the clock, not the sending
  // order, puts them in one second, and 5,000 requests built at once cost seconds of garbage collection.
  await inFlight(50, members, (m) => memberships.join(m.userId, 'BIGROOM1', { at, name: m.name }));
  const keys = await peopleIndexKeys();
  expect(keys.map((k) => k.key).sort()).toEqual(
    Array.from({ length: PEOPLE_INDEX_SHARDS }, (_, n) => `S:BIGROOM1#${n}`).sort(),
  );
  expect(keys.reduce((sum, k) => sum + k.writes, 0)).toBe(JOIN_BURST);
  expect(keys.every((k) => k.throttledWrites === 0)).toBe(true);
  const busiest = Math.max(...keys.map((k) => k.peakWritesPerSecond));
  // 417 on average; docs/PERFORMANCE.md states ≤ 500 (a 32-bit FNV-1a of random ids over 12 keys), the design
  // point of every key.
  expect(busiest).toBeLessThanOrEqual((JOIN_BURST / PEOPLE_INDEX_SHARDS) * 1.2);
  console.info(
    `hot keys: ${JOIN_BURST} signed-in joins in one second, busiest PeopleIndex key ${busiest} writes/s`,
  );

  // Every shard is read and merged: the first names in order, the limit kept.
  const people = new DynamoPeopleStore(db, { memberships: membershipsTable, peopleIndex });
  const found = await people.namedIn('BIGROOM1', 'member 00', 20);
  expect(found.map((p) => p.username)).toEqual(
    Array.from({ length: 20 }, (_, i) => `member ${String(i).padStart(4, '0')}`),
  );
  expect(await people.namedIn('BIGROOM1', 'member 4999', 20)).toEqual([
    { userId: members[4999]?.userId, username: 'member 4999' },
  ]);
  db.destroy();
});

// The old key takes every write of a burst, so the refusal needs only more than 1,000 of them in its second: 1,250
// show DynamoDB refusing what passes 1,000 as a 5,000-member burst would (its 4,000 over the limit are refused the
// same way, one by one), at a quarter of the requests.
const OLD_KEY_BURST = 1_250;

it(`the PeopleIndex as it was, keyed by plain roomId: one key takes every write of a join burst (${OLD_KEY_BURST} in the second), and DynamoDB refuses what passes 1,000`, async () => {
  const db = localDocumentClient(dynamo.endpoint, 1);
  const results = await Promise.allSettled(
    Array.from({ length: OLD_KEY_BURST }, (_, i) =>
      db.send(
        new PutCommand({
          TableName: membershipsTable,
          Item: {
            memberKey: `user:old-${i}`,
            roomId: 'OLDROOM1',
            peopleKey: 'OLDROOM1',
            nameKey: `member ${i}#user:old-${i}`,
            username: `member ${i}`,
          },
        }),
      ),
    ),
  );
  const [busiest] = await peopleIndexKeys();
  if (!busiest) throw new Error('no PeopleIndex key written');
  expect(busiest).toMatchObject({ key: 'S:OLDROOM1', peakWritesPerSecond: 1_000 });
  expect(busiest.throttledWrites).toBe(OLD_KEY_BURST - 1_000);
  expect(results.filter((r) => r.status === 'rejected')).toHaveLength(OLD_KEY_BURST - 1_000);
  console.info(
    `hot keys: the PeopleIndex as it was: ${OLD_KEY_BURST} writes offered to one key in one second, ${busiest.throttledWrites} refused`,
  );
  db.destroy();
});
