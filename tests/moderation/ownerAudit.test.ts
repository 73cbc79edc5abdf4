import { roomCloud, say } from '../helpers/roomCloud';

/**
 * Every owner's and moderator's action leaves a row in the room's audit (the Sessions table's UsernameIndex,
 * `#moderation#<roomId>`): a key rotation, a change of the room's settings, a removal and the close; a delete of
 * another member's message, a pin and an unpin; a report's resolution. An author's own delete is no moderation and
 * leaves none.
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

it("puts a moderator's delete, the owner's pin and unpin and a resolved report on record, not an author's delete", async () => {
  const [owner, mod, bob] = await Promise.all([connect('owner-d'), connect('mod-d'), connect('bob-d')]);
  const { roomId } = await roomOf(owner, mod, bob);
  await owner.expectReply({ action: 'setrole', username: 'mod-d', role: 'moderator' });
  const spam = (await say(bob, 'spam')).seq as number;
  const kept = (await say(bob, 'a good one')).seq as number;
  const own = (await say(bob, 'typo')).seq as number;
  await bob.expectReply({ action: 'deletemessage', seq: own });
  await mod.expectReply({ action: 'deletemessage', seq: spam });
  await owner.expectReply({ action: 'pinmessage', seq: kept });
  await owner.expectReply({ action: 'pinmessage', seq: kept, remove: true });
  const { report } = await owner.expectReply({ action: 'report', seq: kept, reason: 'checking' });
  await mod.expectReply({
    action: 'resolvereport',
    reportId: (report as { reportId: string }).reportId,
    outcome: 'dismissed',
  });
  expect((await auditOf(roomId)).sort()).toEqual([
    `deletemessage mod-d>bob-d seq ${spam}`,
    `pinmessage owner-d>bob-d seq ${kept}`,
    `resolvereport mod-d>bob-d seq ${kept} dismissed`,
    'setrole owner-d>mod-d moderator',
    `unpinmessage owner-d>bob-d seq ${kept}`,
  ]);
});
