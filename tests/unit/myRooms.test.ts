import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Connection } from '../../functions/domain/ports';
import { DynamoMembershipStore } from '../../functions/domain/rooms/dynamoMemberships';
import { type MemberDeps, MY_ROOMS_MAX, myRooms } from '../../functions/domain/rooms/memberships';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * `myrooms` against the real DynamoDB adapter (dynalite): memberships are stored by room code, so a member of more
 * rooms than are listed must still see the most recently active ones, not the first codes in the alphabet.
 */
let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let store: DynamoMembershipStore;
let members = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
  store = new DynamoMembershipStore(db, {
    memberships: tables.table('MembershipsTable'),
    rooms: tables.table('RoomsTable'),
    connections: tables.table('ConnectionsTable'),
  });
});

afterAll(async () => {
  await tables.close();
});

const now = new Date('2026-11-24T08:00:00.000Z');
const nowSeconds = now.getTime() / 1000;

/** A member of `count` rooms; the room whose code sorts last is the most recently active (its TTL moved last). */
async function memberOf(count: number): Promise<{ deps: MemberDeps; byActivity: string[] }> {
  const userId = `user:${String(++members).padStart(43, 'M')}`;
  const codes = Array.from(
    { length: count },
    (_, i) => `R${String(members).padStart(3, '0')}${String(i).padStart(4, '0')}`,
  );
  for (const [i, roomId] of codes.entries()) {
    await db.send(
      new PutCommand({
        TableName: tables.table('RoomsTable'),
        Item: { roomId, seq: i + 1, createdAt: now.toISOString(), ttl: nowSeconds + 86_400 + i },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: tables.table('MembershipsTable'),
        Item: { memberKey: userId, roomId, lastReadSeq: 0, at: now.toISOString() },
      }),
    );
  }
  const connection: Connection = {
    connectionId: `conn-${members}`,
    roomId: 'lobby',
    username: 'alice',
    connectedAt: now.toISOString(),
    userId,
  };
  const deps = {
    connections: { get: async () => connection },
    memberships: store,
    now: () => now,
  } as unknown as MemberDeps;
  return { deps, byActivity: [...codes].reverse() };
}

it('lists the most recently active rooms of a member of more rooms than it lists, and says some are left out', async () => {
  const { deps, byActivity } = await memberOf(MY_ROOMS_MAX + 30);
  const frame = await myRooms(deps, 'conn');
  expect(frame.rooms.map((r) => r.roomId)).toEqual(byActivity.slice(0, MY_ROOMS_MAX));
  expect(frame.more).toBe(true);
  expect(frame.rooms[0]).toMatchObject({ lastSeq: MY_ROOMS_MAX + 30, unread: MY_ROOMS_MAX + 30 });
});

it('lists every room, with no `more`, when they all fit', async () => {
  const { deps, byActivity } = await memberOf(12);
  const frame = await myRooms(deps, 'conn');
  expect(frame.rooms.map((r) => r.roomId)).toEqual(byActivity);
  expect(frame).not.toHaveProperty('more');
});
