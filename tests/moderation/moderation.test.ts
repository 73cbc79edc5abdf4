import { type Frame, isMessage } from '../helpers/chatClient';
import { roomCloud, say } from '../helpers/roomCloud';

/**
 * Moderation as members see it through the local cloud (AuthMode=none): the owner makes a member a moderator, who
 * deletes another member's message; a muted member reads but its sends, edits and reactions are refused MUTED until
 * unmuted; slow mode refuses a member's second message inside the interval with SLOW_MODE and the seconds to wait,
 * and takes it after. Each action leaves a row in the audit (the Sessions table's UsernameIndex, by room).
 */
jest.setTimeout(240_000);

const stage = roomCloud({ settings: { JoinGuessLimit: '1000' } });
const { connect, roomOf, auditOf } = stage;

describe('roles', () => {
  it("a moderator deletes another member's message; every member sees the role change live", async () => {
    const [owner, mod, bob] = await Promise.all([connect('owner-r'), connect('mod-r'), connect('bob-r')]);
    const { roomId } = await roomOf(owner, mod, bob);
    const sent = await say(bob, 'spam spam');
    expect(sent.type).toBe('ack');
    const seq = sent.seq as number;
    // Before the role: refused, as any member deleting another's message.
    const before = await mod.ask({ action: 'deletemessage', seq });
    expect(before).toMatchObject({ type: 'error', code: 'NOT_AUTHOR' });

    const made = await owner.expectReply({ action: 'setrole', username: 'mod-r', role: 'moderator' });
    expect(made).toMatchObject({ type: 'rolechanged', roomId, username: 'mod-r', role: 'moderator' });
    await bob.next((f) => f.type === 'rolechanged' && f.username === 'mod-r' && f.role === 'moderator');
    const listed = await bob.expectReply({ action: 'who' });
    expect(listed.moderators).toEqual(['mod-r']);

    const deleted = await mod.expectReply({ action: 'deletemessage', seq });
    expect(deleted.type).toBe('changed');
    const seen = await bob.next((f) => f.type === 'deleted' && f.targetSeq === seq);
    expect(seen.by).toBe('moderator');

    // A moderator has no owner's powers over roles, and a member none at all.
    expect(await mod.ask({ action: 'setrole', username: 'bob-r', role: 'moderator' })).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await bob.ask({ action: 'mute', username: 'mod-r' })).toMatchObject({ code: 'FORBIDDEN' });
    // Back to member: the delete is refused again.
    await owner.expectReply({ action: 'setrole', username: 'mod-r', role: 'member' });
    const again = await say(bob, 'more');
    expect(await mod.ask({ action: 'deletemessage', seq: again.seq })).toMatchObject({ code: 'NOT_AUTHOR' });
    expect(await owner.ask({ action: 'setrole', username: 'mod-r', role: 'admin' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
    // The moderator's delete is on record between the two role changes.
    expect(await auditOf(roomId)).toEqual([
      'setrole owner-r>mod-r',
      'deletemessage mod-r>bob-r',
      'setrole owner-r>mod-r',
    ]);
  });
});

describe('mute', () => {
  it('a muted member reads on, its sends, edits and reactions refused MUTED until it is unmuted', async () => {
    const [owner, mod, bob] = await Promise.all([connect('owner-m'), connect('mod-m'), connect('bob-m')]);
    const { roomId } = await roomOf(owner, mod, bob);
    await owner.expectReply({ action: 'setrole', username: 'mod-m', role: 'moderator' });
    const mine = await say(bob, 'before the mute');
    const muted = await mod.expectReply({ action: 'mute', username: 'bob-m', minutes: 10 });
    expect(muted).toMatchObject({ type: 'muted', roomId, username: 'bob-m' });
    const until = Date.parse(muted.until as string);
    expect(until).toBeGreaterThan(Date.now() + 9 * 60_000);
    // bob is told, on his own connection.
    const told = await bob.next((f) => f.type === 'muted');
    expect(told.until).toBe(muted.until);

    const refused = await bob.ask({ action: 'sendmessage', message: 'let me speak', clientMsgId: 'm1' });
    expect(refused).toMatchObject({ type: 'error', code: 'MUTED', until: muted.until });
    expect(refused.message).toMatch(/muted/);
    expect(await bob.ask({ action: 'editmessage', seq: mine.seq, message: 'edited' })).toMatchObject({
      code: 'MUTED',
    });
    expect(await bob.ask({ action: 'react', seq: mine.seq, reaction: '👍' })).toMatchObject({
      code: 'MUTED',
    });
    // He still reads the room.
    await say(owner, 'you can still read this');
    await bob.next(isMessage(roomId, 'you can still read this'));
    // The owner and moderators are never muted.
    expect(await mod.ask({ action: 'mute', username: 'owner-m' })).toMatchObject({ code: 'FORBIDDEN' });

    const unmuted = await mod.expectReply({ action: 'unmute', username: 'bob-m' });
    expect(unmuted).toMatchObject({ type: 'unmuted', username: 'bob-m' });
    await bob.next((f) => f.type === 'unmuted');
    const accepted = await bob.ask({ action: 'sendmessage', message: 'let me speak', clientMsgId: 'm1' });
    expect(accepted.type).toBe('ack');
    await owner.next(isMessage(roomId, 'let me speak'));

    expect(await mod.ask({ action: 'mute', username: 'bob-m', minutes: 0 })).toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await mod.ask({ action: 'mute', username: 'nobody' })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await auditOf(roomId)).toEqual([
      'setrole owner-m>mod-m',
      'mute mod-m>bob-m',
      'unmute mod-m>bob-m',
    ]);
  });

  it('a mute without minutes lasts until unmuted, and a rejoin is told it', async () => {
    const [owner, bob] = await Promise.all([connect('owner-f'), connect('bob-f')]);
    const { roomId, key } = await roomOf(owner, bob);
    const muted = await owner.expectReply({ action: 'mute', username: 'bob-f' });
    expect(muted.until).toBeUndefined();
    const refused = await say(bob, 'hello?');
    expect(refused).toMatchObject({ code: 'MUTED' });
    expect(refused.until).toBeUndefined();
    // The member list's frame on a new entry says so.
    await bob.expectReply({ action: 'leaveroom' });
    const joined = await bob.expectReply({ action: 'joinroom', roomId, key });
    expect(joined.mutedUntil).toBeNull();
    expect(joined.role).toBe('member');
  });
});

describe('slow mode', () => {
  it("refuses a member's second message inside the interval with the seconds to wait, and takes it after", async () => {
    const [owner, bob] = await Promise.all([connect('owner-s'), connect('bob-s')]);
    const { roomId } = await roomOf(owner, bob);
    // An interval no busy machine's round trips outlast: the refusal is not a race with the clock.
    const set = await owner.expectReply({ action: 'slowmode', seconds: 60 });
    expect(set).toMatchObject({ type: 'slowmode', roomId, seconds: 60 });
    await bob.next((f: Frame) => f.type === 'slowmode' && f.seconds === 60);

    expect((await say(bob, 'one')).type).toBe('ack');
    const refused = await say(bob, 'two');
    expect(refused).toMatchObject({ type: 'error', code: 'SLOW_MODE' });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(60);
    // The owner is exempt.
    expect((await say(owner, 'owner one')).type).toBe('ack');
    expect((await say(owner, 'owner two')).type).toBe('ack');

    // A shorter interval, and past it since 'one': Bob's message is taken. The pause only lets time pass; a slow
    // machine makes it longer, never too short.
    await owner.expectReply({ action: 'slowmode', seconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await say(bob, 'two')).type).toBe('ack');
    await owner.next(isMessage(roomId, 'two'));
    // Off again: no wait.
    await owner.expectReply({ action: 'slowmode', seconds: 0 });
    expect((await say(bob, 'three')).type).toBe('ack');
    expect((await say(bob, 'four')).type).toBe('ack');
    expect(await owner.ask({ action: 'slowmode', seconds: -1 })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await bob.ask({ action: 'slowmode', seconds: 5 })).toMatchObject({ code: 'FORBIDDEN' });
  });
});
