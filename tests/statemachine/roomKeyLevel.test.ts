import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { MEMBERS_PER_KEY, ROOM_INDEX_SHARDS, roomIndexShard } from '#core/aws/roomMembers';
import { subscriptionItem } from '#core/aws/subscriptions';
import { LOBBY } from '#core/protocol';
import { joinRoom } from '#rooms/joining';
import { useFanoutMachine } from '../helpers/fanoutMachine';
import {
  connectionStore,
  localDocumentClient,
  noHistory,
  roomEntry,
  roomStore,
} from '../helpers/templateTables';

/**
 * A room's index keys follow its size (docs/ARCHITECTURE.md, "Hot keys"): members join through the product's join
 * (its room store, entry and connection store against the local DynamoDB), and the fan-out machine of template.yaml,
 * with the template's own page and chunk sizes, delivers a message. A small room costs one Query of the room index
 * and one Deliver chunk; a room that grows past MEMBERS_PER_KEY is raised a key level and still reaches everyone,
 * whichever level they joined at; the lobby Queries every key.
 */
jest.setTimeout(240_000);

const { h, send, createRoom, seqsOf, recordsOf } = useFanoutMachine({
  FanoutPageSize: '1000',
  FanoutChunkSize: '100',
  FanoutMaxConcurrency: '10',
});

function ports() {
  const db = localDocumentClient(h.dynamo.endpoint);
  const tables = { db, table: (logicalId: string) => h.tables[logicalId] as string };
  const connections = connectionStore(tables);
  const deps = {
    connections,
    rooms: roomStore(tables),
    messages: noHistory(),
    entry: roomEntry(tables),
    events: { publish: async () => undefined },
    now: () => new Date(),
  };
  return { db, connections, deps };
}

/** Connects `count` members (each in the lobby first, as `$connect` leaves it) with ids shaped like API Gateway's. */
async function connectAll(p: ReturnType<typeof ports>, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}=`);
  await Promise.all(
    ids.map((connectionId) =>
      p.connections.put({
        connectionId,
        roomId: LOBBY,
        username: `guest-${connectionId.slice(-5, -1)}`,
        userId: `connection:${connectionId}`,
        connectedAt: new Date().toISOString(),
      }),
    ),
  );
  return ids;
}

/** Joins each member into the room through the product's join, `atOnce` at a time (joins racing each other). */
async function joinAll(p: ReturnType<typeof ports>, ids: string[], roomId: string, atOnce: number) {
  for (let i = 0; i < ids.length; i += atOnce)
    await Promise.all(ids.slice(i, i + atOnce).map((id) => joinRoom(p.deps, id, roomId)));
}

/** The room index keys of `roomId` read since the last reset, as the local DynamoDB counted them, by key. */
async function indexReads(roomId: string): Promise<Map<string, number>> {
  const stats = await h.dynamo.keyStats({ table: h.tables.SubscriptionsTable as string });
  return new Map(
    stats
      .filter((s) => s.index === 'RoomSubscribers' && s.key.startsWith(`S:${roomId}#`) && s.reads > 0)
      .map((s) => [s.key.slice(2), s.reads]),
  );
}

/** One message of the room through the fan-out machine: its run, with the room index reads it made. */
async function fanOut(roomId: string, seq: number) {
  const event = await send(roomId, seq);
  await h.dynamo.resetKeyStats();
  const run = await h.machine.execute(recordsOf(event));
  expect(run.ok).toBe(true);
  return {
    run,
    queries: run.states.filter((s) => s === 'QueryFirstPage' || s === 'QueryNextPage').length,
    reads: await indexReads(roomId),
    posts: h.steps.filter((s) => s.input.op === 'post').length,
  };
}

const keyLevelOf = async (p: ReturnType<typeof ports>, roomId: string) =>
  (await p.db.send(new GetCommand({ TableName: h.tables.RoomsTable as string, Key: { roomId } }))).Item
    ?.keyLevel;

it('a room of 10 costs its message one Query of the room index and one Deliver chunk', async () => {
  const p = ports();
  await createRoom('SMALL1');
  const ids = await connectAll(p, 'small1-', 10);
  await joinAll(p, ids, 'SMALL1', 5);
  // Over every key a room can have, ten members would sit under several.
  expect(new Set(ids.map((id) => roomIndexShard(id, ROOM_INDEX_SHARDS))).size).toBeGreaterThan(1);
  const { queries, reads, posts } = await fanOut('SMALL1', 1);
  expect(queries).toBe(1);
  expect([...reads]).toEqual([['SMALL1#0', 1]]);
  expect(posts).toBe(1);
  for (const id of ids) expect(seqsOf(id)).toEqual([1]);
  expect(await keyLevelOf(p, 'SMALL1')).toBeUndefined();
  p.db.destroy();
});

it(`a room that grows past ${MEMBERS_PER_KEY} members is raised a key level and reaches those who joined before and after`, async () => {
  const p = ports();
  await createRoom('GROWS1');
  // The room's first members, as their joins wrote them at its first level (the local DynamoDB's index Queries are
  // slow: a hundred joins that each list the room would take a minute), then its last five through the join itself.
  const seeded = await connectAll(p, 'grows1-a-', MEMBERS_PER_KEY - 5);
  for (const connectionId of seeded)
    await p.db.send(
      new PutCommand({
        TableName: h.tables.SubscriptionsTable as string,
        Item: subscriptionItem({
          connectionId,
          roomId: 'GROWS1',
          username: `guest-${connectionId}`,
          connectedAt: new Date().toISOString(),
          subscribedAt: new Date().toISOString(),
          keyLevel: 1,
        }),
      }),
    );
  const joined = await connectAll(p, 'grows1-b-', 5);
  await joinAll(p, joined, 'GROWS1', 5);
  const before = [...seeded, ...joined];
  expect(await keyLevelOf(p, 'GROWS1')).toBeUndefined();
  // The 101st member raises the room to two keys; those after it, joining five at once, spread over both.
  const after = await connectAll(p, 'grows1-c-', 20);
  await joinAll(p, after, 'GROWS1', 5);
  expect(await keyLevelOf(p, 'GROWS1')).toBe(2);
  // Joined after the raise: spread over both keys; joined before: all under the first.
  const keyOf = async (id: string) =>
    (
      await p.db.send(
        new GetCommand({
          TableName: h.tables.SubscriptionsTable as string,
          Key: { connectionId: id, roomId: 'GROWS1' },
        }),
      )
    ).Item?.roomKey;
  expect(new Set(await Promise.all(before.map(keyOf)))).toEqual(new Set(['GROWS1#0']));
  expect(new Set(await Promise.all(after.map(keyOf)))).toEqual(new Set(['GROWS1#0', 'GROWS1#1']));
  const { queries, reads } = await fanOut('GROWS1', 1);
  expect(queries).toBe(2);
  expect([...reads.keys()].sort()).toEqual(['GROWS1#0', 'GROWS1#1']);
  for (const id of [...before, ...after]) expect(seqsOf(id)).toEqual([1]);
  p.db.destroy();
});

it(`the lobby Queries all ${ROOM_INDEX_SHARDS} of its keys`, async () => {
  const p = ports();
  await createRoom(LOBBY);
  const ids = await connectAll(p, 'lobby1-', 30);
  const { queries, reads } = await fanOut(LOBBY, 1);
  expect(queries).toBe(ROOM_INDEX_SHARDS);
  expect(reads.size).toBe(ROOM_INDEX_SHARDS);
  for (const id of ids) expect(seqsOf(id)).toEqual([1]);
  p.db.destroy();
});
