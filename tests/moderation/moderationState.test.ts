import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { MUTE_PREFIX, MUTED_FOREVER, moderationItemId } from '#core/moderation';
import type { Frame } from '../helpers/chatClient';
import { roomCloud, say } from '../helpers/roomCloud';

/**
 * A heavily moderated room's sends, through the local cloud: with 100 members muted and 300 names removed, a send's
 * seq write still costs the room's item 1 write unit (the twin's per-key capacity count: DynamoDB bills a write by the
 * item's whole size, 1 WCU per KB), since that state is on the room's moderation item, not on the item every send
 * rewrites (core/moderation.ts). A mute and a removal made through the routes land there and still refuse the muted
 * member's send.
 */
jest.setTimeout(240_000);

const stage = roomCloud(
  {
    settings: {
      JoinGuessLimit: '0',
      ConnectRateLimit: '0',
      ConnectionsPerSource: '0',
      FrameRateLimit: '100000',
      StrikeLimit: '100000',
    },
  },
  { closeClients: 'test' },
);
const MUTES = 100;
const REMOVED = 300;
const SENDS = 5;

async function item(roomId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stage.db.send(
    new GetItemCommand({
      TableName: stage.table('RoomsTable'),
      Key: { roomId: { S: roomId } },
      ConsistentRead: true,
    }),
  );
  return Item && unmarshall(Item);
}

it(`a send in a room with ${MUTES} mutes and ${REMOVED} removed names writes 1 WCU to the room's item`, async () => {
  const [owner, sam, mo, rex] = await Promise.all([
    stage.connect('owner'),
    stage.connect('sam'),
    stage.connect('mo'),
    stage.connect('rex'),
  ]);
  const { roomId } = await stage.roomOf(owner, sam, mo, rex);

  // One mute and one removal through the routes, as an owner makes them.
  expect(await owner.expectReply({ action: 'mute', username: 'mo' })).toMatchObject({ type: 'muted' });
  expect(await owner.expectReply({ action: 'removemember', username: 'rex' })).toMatchObject({ removed: 1 });
  const moderation = await item(moderationItemId(roomId));
  const room = await item(roomId);
  expect(room?.moderated).toBe(true);
  expect(moderation?.room).toBe(room?.createdAt);
  expect([...((moderation?.removedNames as Set<string> | undefined) ?? [])]).toContain('rex');
  expect(Object.keys(moderation ?? {}).filter((name) => name.startsWith(MUTE_PREFIX))).toHaveLength(1);

  // The rest of the 100 mutes and 300 removed names written as the routes write them, straight to the local
  // DynamoDB to keep the test short: the moderation item's entries, names ~10 characters.
  const mutes = Object.fromEntries(
    Array.from({ length: MUTES - 1 }, (_, i) => [
      `${MUTE_PREFIX}k${String(i).padStart(15, '0')}`,
      { until: MUTED_FOREVER, name: `muted-${String(i).padStart(4, '0')}` },
    ]),
  );
  const names = Array.from({ length: REMOVED - 1 }, (_, i) => `gone-${String(i).padStart(5, '0')}`);
  await stage.db.send(
    new UpdateItemCommand({
      TableName: stage.table('RoomsTable'),
      Key: { roomId: { S: moderationItemId(roomId) } },
      UpdateExpression: `SET ${Object.keys(mutes)
        .map((_, i) => `#m${i} = :m${i}`)
        .join(', ')} ADD removedNames :names`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(mutes).map((name, i) => [`#m${i}`, name])),
      ExpressionAttributeValues: marshall({
        ...Object.fromEntries(Object.values(mutes).map((mute, i) => [`:m${i}`, mute])),
        ':names': new Set(names),
      }),
    }),
  );
  const heavy = await item(moderationItemId(roomId));
  expect(Object.keys(heavy ?? {}).filter((name) => name.startsWith(MUTE_PREFIX))).toHaveLength(MUTES);
  expect(heavy?.removedNames as Set<string>).toHaveProperty('size', REMOVED);

  // The muted member is still refused.
  expect(await say(mo, 'let me speak')).toMatchObject({ code: 'MUTED' });

  await stage.cloud.resetDynamoKeyStats();
  for (let i = 0; i < SENDS; i++) expect((await say(sam, `message ${i}`)).type).toBe('ack');
  const stats = await stage.cloud.dynamoKeyStats({ table: stage.table('RoomsTable') });
  const roomKey = stats.find((s) => s.key === `S:${roomId}` && s.index === undefined);
  // Each send's take, and the fan-out's awake marks beside them: every write to the room's item 1 WCU.
  expect(roomKey?.writes).toBeGreaterThanOrEqual(SENDS);
  expect((roomKey?.wcu ?? Number.POSITIVE_INFINITY) / (roomKey?.writes ?? 1)).toBeLessThanOrEqual(1);
});

it("a room made again under a code inherits no mute from the earlier room's moderation item", async () => {
  const [owner, bob] = await Promise.all([stage.connect('owner-2'), stage.connect('bob-2')]);
  const { roomId } = await stage.roomOf(owner, bob);
  const bobKey = (await owner.expectReply({ action: 'mute', username: 'bob-2' })) as Frame;
  expect(bobKey.type).toBe('muted');
  const moderation = await item(moderationItemId(roomId));
  // The item as an earlier room under this code would have left it: its `room` another room's createdAt.
  await stage.db.send(
    new PutItemCommand({
      TableName: stage.table('RoomsTable'),
      Item: marshall({ ...moderation, room: '2000-01-01T00:00:00.000Z' }),
    }),
  );
  expect((await say(bob, 'free again')).type).toBe('ack');
  // A new mute clears the earlier room's item and writes this room's.
  expect(await owner.expectReply({ action: 'mute', username: 'bob-2' })).toMatchObject({ type: 'muted' });
  expect(await say(bob, 'and muted again')).toMatchObject({ code: 'MUTED' });
  expect((await item(moderationItemId(roomId)))?.room).toBe((await item(roomId))?.createdAt);
});
