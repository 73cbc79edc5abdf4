import { type AttributeValue, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoRoomStore } from '#core/aws/rooms';
import { moderationItemId } from '#core/moderation';
import type { Room } from '#core/ports';
import type { ChatClient } from '../helpers/chatClient';
import { roomCloud, say } from '../helpers/roomCloud';

/**
 * Bans at scale, as the owner and the banned see them through the local cloud: a room bans 150 members (more than a
 * room's item could once hold) and the first banned is still refused BANNED; the room's item, which every send
 * rewrites, holds no ban (each is an item of its own, core/moderation.ts) and no removed name (the moderation item
 * holds them), so a send still costs 1 write unit (1 per KB of the larger of the item's images: DynamoDB's rule, read from the local DynamoDB's accounting).
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
const BANS = 150;
/** DynamoDB's size of an item: its attribute names and values (dynalite applies the same rules). */
const itemSize = (require('dynalite/db') as { itemSize(item: Record<string, AttributeValue>): number })
  .itemSize;

async function roomItem(roomId: string): Promise<Record<string, AttributeValue>> {
  const { Item } = await stage.db.send(
    new GetItemCommand({
      TableName: stage.table('RoomsTable'),
      Key: { roomId: { S: roomId } },
      ConsistentRead: true,
    }),
  );
  if (!Item) throw new Error(`room ${roomId} has no item`);
  return Item;
}

/** The write units one message's take charged the room's item (the local DynamoDB's per-key accounting). */
async function sendWriteUnits(client: ChatClient, roomId: string): Promise<number> {
  await stage.cloud.resetDynamoKeyStats();
  expect((await say(client, 'still here')).type).toBe('ack');
  const stats = await stage.cloud.dynamoKeyStats({ table: stage.table('RoomsTable') });
  const room = stats.find((s) => s.key === `S:${roomId}` && s.index === undefined);
  if (!room) throw new Error('the send wrote nothing to the room');
  return room.wcu / room.writes;
}

it(`a room bans ${BANS} members: the first is still refused, and a send still costs 1 write unit`, async () => {
  const owner = await stage.connect('owner-s');
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = created.roomId as string;
  let key = created.inviteKey as string;
  const fresh = itemSize(await roomItem(roomId));

  // The first and the last bans are the route's, as a moderator makes them; the 148 between are the same write
  // (core/aws/rooms.ts changeAsOwner, the ban's transaction), made straight to the local DynamoDB to keep this test short.
  const banThroughTheRoute = async (name: string): Promise<ChatClient> => {
    const member = await stage.connect(name);
    await member.expectReply({ action: 'joinroom', roomId, key });
    const banned = await owner.expectReply({ action: 'ban', username: name });
    expect(banned).toMatchObject({ type: 'banned', username: name, removed: 1 });
    key = banned.inviteKey as string;
    return member;
  };
  const first = await banThroughTheRoute('b000');
  const store = new DynamoRoomStore(DynamoDBDocumentClient.from(stage.db), stage.table('RoomsTable'));
  const { ownerId, createdAt } = unmarshall(await roomItem(roomId)) as Room;
  for (let i = 1; i < BANS - 1; i++) {
    const name = `b${String(i).padStart(3, '0')}`;
    const banned = await store.changeAsOwner(roomId, ownerId as string, Math.floor(Date.now() / 1000), {
      kind: 'rotateKey',
      inviteKey: `key-${String(i).padStart(12, '0')}`,
      removedName: name,
      ban: {
        key: `member-key-${String(i).padStart(5, '0')}`,
        name,
        at: new Date().toISOString(),
        roomCreatedAt: createdAt,
      },
    });
    expect(banned).toBeDefined();
    key = `key-${String(i).padStart(12, '0')}`;
  }
  await (await banThroughTheRoute(`b${BANS - 1}`)).close();

  // The first of 150 banned, with the room's current key: refused BANNED. A newcomer with the same key gets in.
  const again = await first.ask({ action: 'joinroom', roomId, key });
  expect(again).toMatchObject({ type: 'error', code: 'BANNED' });
  const newcomer = await stage.connect('newcomer');
  expect((await newcomer.expectReply({ action: 'joinroom', roomId, key })).type).toBe('joined');

  // The room's item holds no ban and no removed name (a ban refuses its name on the room's moderation item): what
  // grew is its replaced keys.
  const item = await roomItem(roomId);
  expect(Object.keys(item).filter((name) => name.startsWith('ban#'))).toEqual([]);
  expect(item.removedNames).toBeUndefined();
  expect((await roomItem(moderationItemId(roomId))).removedNames?.SS).toHaveLength(BANS);
  // The item is the fresh room plus its 16 replaced key ids and a few counters: < 1 KB.
  expect(itemSize(item) - fresh).toBeLessThan(1024);
  expect(itemSize(item)).toBeLessThanOrEqual(1024);
  expect(await sendWriteUnits(newcomer, roomId)).toBeLessThanOrEqual(1);

  // Unban by name still finds the ban in the room's roster: the first banned comes back.
  expect((await owner.expectReply({ action: 'unban', username: 'b000' })).type).toBe('unbanned');
  expect((await first.expectReply({ action: 'joinroom', roomId, key })).type).toBe('joined');
});
