import type { Frame } from '../helpers/chatClient';
import { roomCloud, say } from '../helpers/roomCloud';

/**
 * What a room's owner and moderators read of its moderation (`modlog`) through the local cloud: the room's log,
 * newest first, a page at a time, and on the first page who is muted (with until when) and who is banned, so each is
 * one click to lift; a member is refused. Members see a ban or a removal as such (`presence` leave with `reason`), and
 * a typing frame names its typist's key, as its messages do, so a blocker can hide it.
 */
jest.setTimeout(240_000);

const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const { connect, roomOf } = stage;

/** A leave of `name` in `roomId` as members get it: a `presence` frame, or one change of a `memberschanged`. */
const leaveOf = (roomId: string, name: string) => (f: Frame) =>
  f.roomId === roomId &&
  ((f.type === 'presence' && f.event === 'leave' && f.username === name) ||
    (f.type === 'memberschanged' &&
      (f.changes as Frame[]).some((c) => c.event === 'leave' && c.username === name)));
const reasonOf = (f: Frame, name: string) =>
  f.type === 'presence' ? f.reason : (f.changes as Frame[]).find((c) => c.username === name)?.reason;

it('lists the log newest first by pages, with who is muted and banned; members are refused', async () => {
  const [owner, mod, bob, carol, dave] = await Promise.all([
    connect('owner-l'),
    connect('mod-l'),
    connect('bob-l'),
    connect('carol-l'),
    connect('dave-l'),
  ]);
  const { roomId } = await roomOf(owner, mod, bob, carol, dave);
  expect(await bob.ask({ action: 'modlog' })).toMatchObject({ type: 'error', code: 'FORBIDDEN' });

  await owner.expectReply({ action: 'setrole', username: 'mod-l', role: 'moderator' });
  const muted = await mod.expectReply({ action: 'mute', username: 'bob-l', minutes: 10 });
  await mod.expectReply({ action: 'mute', username: 'carol-l' });
  await mod.expectReply({ action: 'ban', username: 'dave-l' });

  const first = await mod.expectReply({ action: 'modlog', limit: 3 });
  expect(first).toMatchObject({
    type: 'modlog',
    roomId,
    muted: [{ username: 'bob-l', until: muted.until }, { username: 'carol-l' }],
    banned: ['dave-l'],
  });
  const shown = (f: Frame) =>
    (f.entries as Frame[]).map((e) => `${e.action} ${e.actor}(${e.actorRole})>${e.target ?? ''}`);
  expect(shown(first)).toEqual([
    'ban mod-l(moderator)>dave-l',
    'mute mod-l(moderator)>carol-l',
    'mute mod-l(moderator)>bob-l',
  ]);
  expect(first.next).toEqual(expect.any(String));
  const rest = await owner.expectReply({ action: 'modlog', limit: 3, before: first.next });
  expect(shown(rest)).toEqual(['setrole owner-l(owner)>mod-l']);
  // Only the first page says who is muted and banned; the last page has no `next`.
  expect(rest.muted).toBeUndefined();
  expect(rest.banned).toBeUndefined();
  expect(rest.next).toBeUndefined();

  // Lifted, they leave the lists.
  await owner.expectReply({ action: 'unmute', username: 'bob-l' });
  await owner.expectReply({ action: 'unban', username: 'dave-l' });
  expect(await owner.expectReply({ action: 'modlog', limit: 1 })).toMatchObject({
    muted: [{ username: 'carol-l' }],
    banned: [],
    entries: [{ action: 'unban', actor: 'owner-l', target: 'dave-l' }],
  });

  expect(await owner.ask({ action: 'modlog', before: 'yesterday' })).toMatchObject({ code: 'BAD_REQUEST' });
  expect(await owner.ask({ action: 'modlog', limit: 51 })).toMatchObject({ code: 'BAD_REQUEST' });
  // Made a member again, the moderator reads it no more.
  await owner.expectReply({ action: 'setrole', username: 'mod-l', role: 'member' });
  expect(await mod.ask({ action: 'modlog' })).toMatchObject({ code: 'FORBIDDEN' });
});

it('tells members a ban and a removal as such, and a plain leave as a leave', async () => {
  const [owner, bob, carol, dave, erin] = await Promise.all([
    connect('owner-p'),
    connect('bob-p'),
    connect('carol-p'),
    connect('dave-p'),
    connect('erin-p'),
  ]);
  const { roomId } = await roomOf(owner, bob, carol, dave, erin);
  await owner.expectReply({ action: 'ban', username: 'carol-p' });
  expect(reasonOf(await bob.next(leaveOf(roomId, 'carol-p')), 'carol-p')).toBe('banned');
  await owner.expectReply({ action: 'removemember', username: 'dave-p' });
  expect(reasonOf(await bob.next(leaveOf(roomId, 'dave-p')), 'dave-p')).toBe('removed');
  await erin.expectReply({ action: 'leaveroom' });
  expect(reasonOf(await bob.next(leaveOf(roomId, 'erin-p')), 'erin-p')).toBeUndefined();
});

it("a typing frame carries its typist's key in the room, the one its messages carry", async () => {
  const [owner, bob] = await Promise.all([connect('owner-t'), connect('bob-t')]);
  const { roomId } = await roomOf(owner, bob);
  await say(bob, 'hello');
  const message = await owner.next((f) => f.type === 'message' && f.roomId === roomId && f.text === 'hello');
  bob.send({ action: 'typing' });
  const typing = await owner.next((f) => f.type === 'typing' && f.username === 'bob-t');
  expect(typing.authorKey).toEqual(expect.any(String));
  expect(typing.authorKey).toBe(message.authorKey);
});
