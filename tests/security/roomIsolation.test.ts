import type { LocalCloud } from '../../tools/local/cloud';
import type { ChatClient } from '../helpers/chatClient';
import { auditRoom, type CloudTables, cloudTables } from '../helpers/deliveryChecker';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { closeAll, connectMany, roomWith } from '../reliability/world';

/**
 * A member reaches only the room its connection is in: a frame naming another room (`roomId`) is refused with
 * NOT_SUBSCRIBED and carried out nowhere, and look-alike fields (room, RoomId, target …) are ignored, so a client
 * cannot post into or read a room it has not joined.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
let cloud: LocalCloud;
let tables: CloudTables;
let insiders: ChatClient[];
let outsider: ChatClient;
let secretRoom: string;
let otherRoom: string;

beforeAll(async () => {
  testCloud = await startTestCloud();
  cloud = testCloud.cloud;
  tables = cloudTables(cloud);
  const clients = await connectMany(cloud.wsUrl, 'iso', 3);
  insiders = clients.slice(0, 2);
  outsider = clients[2] as ChatClient;
  secretRoom = await roomWith(insiders);
  await insiders[0]?.expectReply({ action: 'sendmessage', message: 'secret plans', clientMsgId: 's1' });
  otherRoom = String((await outsider.expectReply({ action: 'createroom' })).roomId);
});

afterAll(async () => {
  await closeAll([...insiders, outsider]);
  tables?.db.destroy();
  await cloud?.close();
});

const targeting = (room: string) => ({ roomId: room, room, RoomId: room, roomID: room, target: room });

test("a member cannot send into a room it has not joined by naming that room's id", async () => {
  const before = await auditRoom(tables, secretRoom);
  const beforeOwn = await auditRoom(tables, otherRoom);
  const refused = await outsider.ask({
    action: 'sendmessage',
    message: 'intrusion',
    clientMsgId: 'x1',
    ...targeting(secretRoom),
  });
  expect(refused).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED', clientMsgId: 'x1' });
  // Nor is it sent to the sender's own room instead.
  await testCloud.settle();
  expect(await auditRoom(tables, secretRoom)).toEqual(before);
  expect(await auditRoom(tables, otherRoom)).toEqual(beforeOwn);
  // Naming its own room (or no room) sends there.
  const own = await outsider.expectReply({
    action: 'sendmessage',
    message: 'mine',
    roomId: otherRoom.toLowerCase(),
  });
  expect(own).toMatchObject({ type: 'ack', roomId: otherRoom });
  for (const insider of insiders)
    expect(insider.messages(secretRoom).map((f) => f.text)).not.toContain('intrusion');
});

test("a member cannot read a room's history it has not joined by naming that room's id", async () => {
  const reply = await outsider.ask({ action: 'history', afterSeq: 0, ...targeting(secretRoom) });
  expect(reply).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
  expect(JSON.stringify(reply)).not.toContain('secret plans');
  const members = await outsider.ask({ action: 'who', ...targeting(secretRoom) });
  expect(members).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
  // The look-alike fields alone change nothing: the connection's own room answers.
  const { roomId: _named, ...lookAlikes } = targeting(secretRoom);
  const own = await outsider.expectReply({ action: 'who', ...lookAlikes });
  expect(own.roomId).toBe(otherRoom);
  expect(own.members).toEqual(['iso-2']);
});

test('a member in the lobby reaches only the lobby, whatever room the frame names', async () => {
  await outsider.expectReply({ action: 'leaveroom' });
  const refused = await outsider.ask({
    action: 'sendmessage',
    message: 'lobby only',
    ...targeting(secretRoom),
  });
  expect(refused).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
  const { roomId: _named, ...lookAlikes } = targeting(secretRoom);
  const history = await outsider.expectReply({ action: 'history', ...lookAlikes });
  expect(history.roomId).toBe('lobby');
  expect(JSON.stringify(history.messages)).not.toContain('secret plans');
});
