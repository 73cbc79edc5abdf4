import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { adminDynamo, startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * `myrooms` decides whether a member's stored invite key is still its room's by the room's key id (a hash of the
 * key), never reading the key: its policy may not read `inviteKey` (template.yaml, RoomsFunction's ReadRooms). The
 * owner still gets its room's current key there, from its own membership, which each rotation updates.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud();
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await testCloud.cloud.close();
});

const listed = (frame: Frame, roomId: string) =>
  (frame.rooms as Frame[]).find((room) => room.roomId === roomId);

it("gives the owner the current key after a rotation, and drops a member's room whose key changed", async () => {
  const { cloud } = testCloud;
  const owner = await ChatClient.connect(cloud.wsUrl, 'keeper');
  const bob = await ChatClient.connect(cloud.wsUrl, 'bob');
  open.push(owner, bob);
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  await bob.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  expect(listed(await bob.expectReply({ action: 'myrooms' }), roomId)).toMatchObject({
    inviteKey: created.inviteKey,
  });

  const rotated = await owner.expectReply({ action: 'rotatekey' });
  expect(rotated.inviteKey).not.toBe(created.inviteKey);
  expect(listed(await owner.expectReply({ action: 'myrooms' }), roomId)).toMatchObject({
    inviteKey: rotated.inviteKey,
  });
  // Bob's membership holds the key he entered by, which no longer gets in: the room is not offered him.
  expect(listed(await bob.expectReply({ action: 'myrooms' }), roomId)).toBeUndefined();

  // The room holds the key's id beside the key; myrooms reads the id.
  const db = adminDynamo(cloud);
  const table = cloud.template.tables().find((t) => t.logicalId === 'RoomsTable')?.TableName;
  const { Item } = await db.send(new GetItemCommand({ TableName: table, Key: { roomId: { S: roomId } } }));
  db.destroy();
  expect(Item?.keyId?.S).toMatch(/^[\w-]{22}$/);
});
