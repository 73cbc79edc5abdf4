import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import { roomIndexShard } from '#core/aws/roomMembers';
import { putSubscription, subscriptionItem } from '#core/aws/subscriptions';
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

/** The document client, tallying the requests it sends by kind (`QueryCommand`, `GetCommand`...). */
function countingRequests(): { db: DynamoDBDocumentClient; sent: Record<string, number> } {
  const sent: Record<string, number> = {};
  const db = {
    send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      sent[command.constructor.name] = (sent[command.constructor.name] ?? 0) + 1;
      return tables.db.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
  return { db, sent };
}

/** A room whose item holds key level `level` (none: a new room's, 1), its members subscribed at that level. */
async function roomAtLevel(roomId: string, size: number, level?: number): Promise<string[]> {
  await tables.db.send(
    new PutCommand({
      TableName: tables.table('RoomsTable'),
      Item: { roomId, seq: 0, ...(level !== undefined && { keyLevel: level }) },
    }),
  );
  const ids = Array.from({ length: size }, (_, i) => `${roomId}-member${i}`);
  for (const connectionId of ids) await subscribed(roomId, connectionId, connectionId, level);
  return ids;
}

/** A connection's subscription of a room, written at the room's key level, showing `username`. */
async function subscribed(roomId: string, connectionId: string, username: string, level?: number) {
  await putSubscription(
    tables.db,
    tables.table('SubscriptionsTable'),
    subscriptionItem({
      connectionId,
      roomId,
      username,
      connectedAt: '2026-11-24T04:00:00.000Z',
      subscribedAt: '2026-11-24T04:00:00.000Z',
      keyLevel: level,
    }),
  );
}

/** The stores as the functions wire them: the room index, and the Rooms table whose items hold each room's level. */
function levelReaders(db: DynamoDBDocumentClient) {
  const index = {
    table: tables.table('SubscriptionsTable'),
    index: 'RoomSubscribers',
    rooms: tables.table('RoomsTable'),
  };
  return {
    connections: new DynamoConnectionStore(db, tables.table('ConnectionsTable'), index),
    typing: new DynamoTypingStore(db, tables.table('ConnectionsTable'), index, tables.table('LimitsTable')),
  };
}

it("a small room's members are one Query of its one key and one read of its level, for every reader", async () => {
  const ids = await roomAtLevel('level-one', 7);
  for (const read of [
    (r: ReturnType<typeof levelReaders>) =>
      r.connections.listMembers('level-one', 100).then((l) => l.members),
    (r: ReturnType<typeof levelReaders>) => r.connections.membersUpTo('level-one', 1000),
    (r: ReturnType<typeof levelReaders>) => r.typing.membersUpTo('level-one', 50),
  ]) {
    const { db, sent } = countingRequests();
    const members = await read(levelReaders(db));
    expect(members.map((m) => m.connectionId).sort()).toEqual([...ids].sort());
    expect(sent).toEqual({ QueryCommand: 1, GetCommand: 1 });
  }
});

it('a room raised to level 3 is read on its 3 keys, every member found, none past them', async () => {
  const ids = await roomAtLevel('level-three', 30, 3);
  const { db, sent } = countingRequests();
  const { connections } = levelReaders(db);
  const listed = await connections.listMembers('level-three', 100);
  expect(listed.count).toBe(30);
  expect(listed.members.map((m) => m.connectionId).sort()).toEqual([...ids].sort());
  expect(sent).toEqual({ QueryCommand: 3, GetCommand: 1 });
  const scanned = await connections.membersUpTo('level-three', 1000);
  expect(scanned.map((m) => m.connectionId).sort()).toEqual([...ids].sort());
  expect(sent).toEqual({ QueryCommand: 6, GetCommand: 2 });
});

it("a mention scan stopped by its send's refusal reads the room's first key only, not its level", async () => {
  await roomAtLevel('level-stopped', 5, 3);
  const { db, sent } = countingRequests();
  const stop = new AbortController();
  stop.abort();
  await levelReaders(db).connections.membersUpTo('level-stopped', 1000, stop.signal);
  expect(sent).toEqual({ QueryCommand: 1 });
});

it("a moderation's target is read by its name on every key of the room: only its entries come back", async () => {
  const others = await roomAtLevel('level-named', 30, 3);
  // Three connections showing one name, on each of the room's 3 keys (a person's devices, a guest's tabs).
  const named = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    .map((s) => `level-named-ana-${s}`)
    .filter((id, i, all) => all.findIndex((o) => roomIndexShard(o, 3) === roomIndexShard(id, 3)) === i);
  expect(named.map((id) => roomIndexShard(id, 3)).sort()).toEqual([0, 1, 2]);
  for (const connectionId of named) await subscribed('level-named', connectionId, 'ana', 3);
  let returned = 0;
  let scanned = 0;
  const { db, sent } = countingRequests();
  const counting = {
    send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      const output = (await db.send(command)) as { Count?: number; ScannedCount?: number };
      returned += output.Count ?? 0;
      scanned += output.ScannedCount ?? 0;
      return output;
    },
  } as unknown as DynamoDBDocumentClient;
  const found = await levelReaders(counting).connections.membersNamed('level-named', 'ana');
  expect(found.map((m) => m.connectionId).sort()).toEqual([...named].sort());
  expect(found.every((m) => m.username === 'ana')).toBe(true);
  // Every key read (and charged) as the whole room's listing reads it; only the name's entries returned.
  expect(sent).toEqual({ QueryCommand: 3, GetCommand: 1 });
  expect(scanned).toBe(others.length + named.length);
  expect(returned).toBe(named.length);
});
