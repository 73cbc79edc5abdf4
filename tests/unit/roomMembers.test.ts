import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTypingStore } from '#typing/dynamoTyping';
import { connectionStore, templateTables } from '../helpers/templateTables';

/**
 * A room's members, read from the Connections table's room index by both of its readers: the member listing counts
 * everyone and lists up to its limit; typing's read stops one past its limit and pays for no more items than that,
 * whatever the room's size.
 */

const tables = templateTables();

/** The document client, tallying the items its queries read (what DynamoDB bills a Query for). */
function countingReads(): { db: DynamoDBDocumentClient; itemsRead: () => number } {
  let read = 0;
  const db = {
    send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      const output = (await tables.db.send(command)) as { ScannedCount?: number };
      read += output.ScannedCount ?? 0;
      return output;
    },
  } as unknown as DynamoDBDocumentClient;
  return { db, itemsRead: () => read };
}

async function roomOf(roomId: string, size: number): Promise<string[]> {
  const connections = connectionStore(tables);
  const ids = Array.from({ length: size }, (_, i) => `${roomId}-member${i}`);
  for (const connectionId of ids)
    await connections.put({
      connectionId,
      roomId,
      username: connectionId,
      connectedAt: '2026-11-24T04:00:00.000Z',
    });
  return ids;
}

it('a member listing counts the whole room, lists up to its limit and finds the asker past it', async () => {
  const ids = await roomOf('listed', 7);
  const connections = connectionStore(tables);
  const outsider = await connections.listMembers('listed', 3, 'elsewhere');
  expect(outsider.count).toBe(7);
  expect(outsider.members).toHaveLength(3);
  expect(outsider.includesConnection).toBe(false);
  const listedIds = outsider.members.map((m) => m.connectionId);
  const unlisted = ids.find((id) => !listedIds.includes(id)) as string;
  expect((await connections.listMembers('listed', 3, unlisted)).includesConnection).toBe(true);
});

it("typing's read of a big room stops one member past its limit and reads no further", async () => {
  await roomOf('big', 30);
  const { db, itemsRead } = countingReads();
  const typing = new DynamoTypingStore(
    db,
    tables.table('ConnectionsTable'),
    { table: tables.table('SubscriptionsTable'), index: 'RoomSubscribers' },
    tables.table('LimitsTable'),
  );
  const members = await typing.membersUpTo('big', 4);
  expect(members).toHaveLength(5);
  expect(new Set(members.map((m) => m.connectionId)).size).toBe(5);
  expect(itemsRead()).toBe(5);
});

it("typing's read of a room within its limit returns every member", async () => {
  const ids = await roomOf('small', 3);
  const typing = new DynamoTypingStore(
    tables.db,
    tables.table('ConnectionsTable'),
    { table: tables.table('SubscriptionsTable'), index: 'RoomSubscribers' },
    tables.table('LimitsTable'),
  );
  const members = await typing.membersUpTo('small', 4);
  expect(members.map((m) => m.connectionId).sort()).toEqual([...ids].sort());
});

it("a signed-in member's devices share one typing turn per room and interval; other members and rooms have their own", async () => {
  const typing = new DynamoTypingStore(
    tables.db,
    tables.table('ConnectionsTable'),
    { table: tables.table('SubscriptionsTable'), index: 'RoomSubscribers' },
    tables.table('LimitsTable'),
  );
  const at = 1_000_000;
  const turns = await Promise.all(
    Array.from({ length: 5 }, () => typing.takeMemberTurn('room-t', 'user:ana', at, 4000)),
  );
  expect(turns.filter(Boolean)).toHaveLength(1);
  expect(await typing.takeMemberTurn('room-t', 'user:ana', at + 3999, 4000)).toBe(false);
  expect(await typing.takeMemberTurn('room-t', 'user:ben', at + 1, 4000)).toBe(true);
  expect(await typing.takeMemberTurn('room-u', 'user:ana', at + 1, 4000)).toBe(true);
  expect(await typing.takeMemberTurn('room-t', 'user:ana', at + 4000, 4000)).toBe(true);
});
