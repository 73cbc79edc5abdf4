import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Every owner's action leaves a row in the room's audit (the Sessions table's UsernameIndex, `#moderation#<roomId>`),
 * as the moderators' do: a key rotation, a change of the room's settings, a removal and the close.
 */
jest.setTimeout(40_000);

const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const { connect, roomOf } = stage;

async function auditOf(roomId: string): Promise<string[]> {
  const { Items = [] } = await stage.db.send(
    new QueryCommand({
      TableName: stage.table('SessionsTable'),
      IndexName: 'UsernameIndex',
      KeyConditionExpression: 'username = :room',
      ExpressionAttributeValues: { ':room': { S: `#moderation#${roomId}` } },
    }),
  );
  return Items.map((item) =>
    `${item.action?.S} ${item.actor?.S}>${item.target?.S ?? ''} ${item.detail?.S ?? ''}`.trim(),
  );
}

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
