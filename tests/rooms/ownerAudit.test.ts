import { roomCloud } from '../helpers/roomCloud';

/**
 * Every owner's action leaves a row in the room's audit (the Sessions table's UsernameIndex, `#moderation#<roomId>`),
 * as the moderators' do: a key rotation, a change of the room's settings, a removal and the close.
 */
jest.setTimeout(240_000);

const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const { connect, roomOf } = stage;
const auditOf = (roomId: string) => stage.auditOf(roomId, true);

it("puts the owner's rotatekey, setroom, removemember and closeroom on record", async () => {
  const [owner, bob] = await Promise.all([connect('owner-a'), connect('bob-a')]);
  const { roomId } = await roomOf(owner, bob);
  await owner.expectReply({ action: 'rotatekey' });
  await owner.expectReply({ action: 'setroom', topic: 'rules' });
  expect(await owner.expectReply({ action: 'removemember', username: 'bob-a' })).toMatchObject({
    removed: 1,
  });
  await owner.expectReply({ action: 'closeroom' });
  // Rows of one room come in no promised order: compared as a sorted list.
  expect((await auditOf(roomId)).sort()).toEqual([
    'closeroom owner-a>',
    'removemember owner-a>bob-a',
    'rotatekey owner-a>',
    'setroom owner-a> topic',
  ]);
});
