import type { ChatClient, Frame } from '../helpers/chatClient';
import { connect, joinRoom, roomOf, say, useChatCloud } from '../helpers/chatWorld';

/**
 * Pinned messages as members see them through the local cloud: the room's owner pins and unpins, every member gets
 * the `pinned` change live, a member joining later finds the room's pins in `joined`, a delete unpins, and pins past
 * the room's cap, by a member who does not own the room, of a message deleted or missing, or in the lobby are refused
 * with nothing stored.
 */
jest.setTimeout(240_000);

useChatCloud();

const pinnedOf = (targetSeq: number, pinned: boolean) => (f: Frame) =>
  f.type === 'pinned' && f.targetSeq === targetSeq && f.pinned === pinned;

async function pinsOnJoin(client: ChatClient, roomId: string, members: ChatClient[]): Promise<Frame[]> {
  const joined = await joinRoom(client, roomId, members);
  return joined.pins as Frame[];
}

describe('pins', () => {
  it('the owner pins: members see it live and on join; a non-owner is refused; unpin takes it away', async () => {
    const alice = await connect('alice-pin');
    const bob = await connect('bob-pin');
    const roomId = await roomOf(alice, bob);
    const { seq } = (await say(bob, 'the meeting is at 10')) as { seq: number };

    const pinned = await alice.expectReply({ action: 'pinmessage', seq });
    expect(pinned).toMatchObject({ type: 'changed', seq: seq + 1, message: { seq, pinnedBy: 'alice-pin' } });
    expect(await bob.next(pinnedOf(seq, true))).toMatchObject({ seq: seq + 1, username: 'alice-pin' });
    // Pinning it again changes nothing: no seq taken.
    expect((await alice.expectReply({ action: 'pinmessage', seq })).seq).toBeUndefined();

    const carol = await connect('carol-pin');
    expect(await pinsOnJoin(carol, roomId, [alice, bob])).toEqual([
      { seq, by: 'alice-pin', at: expect.any(String) },
    ]);
    const history = await bob.expectReply({ action: 'history' });
    expect((history.messages as Frame[]).find((f) => f.type === 'message' && f.seq === seq)).toMatchObject({
      pinnedBy: 'alice-pin',
    });

    const { seq: other } = (await say(bob, 'mine')) as { seq: number };
    const refused = await bob.ask({ action: 'pinmessage', seq: other });
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_AUTHOR', action: 'pinmessage' });
    expect(refused.message).toMatch(/owner/);
    expect(await bob.ask({ action: 'pinmessage', seq, remove: true })).toMatchObject({ code: 'NOT_AUTHOR' });

    await alice.expectReply({ action: 'pinmessage', seq, remove: true });
    expect(await carol.next(pinnedOf(seq, false))).toMatchObject({ username: 'alice-pin' });
    const dave = await connect('dave-pin');
    expect(await pinsOnJoin(dave, roomId, [alice, bob, carol])).toEqual([]);
  });

  it('a deleted message leaves the pins, and a deleted or missing message cannot be pinned', async () => {
    const alice = await connect('alice-pindel');
    const bob = await connect('bob-pindel');
    const roomId = await roomOf(alice, bob);
    const { seq } = (await say(bob, 'pin me, then delete me')) as { seq: number };
    await alice.expectReply({ action: 'pinmessage', seq });
    await bob.next(pinnedOf(seq, true));

    await bob.expectReply({ action: 'deletemessage', seq });
    await alice.next((f) => f.type === 'deleted' && f.targetSeq === seq);
    const carol = await connect('carol-pindel');
    expect(await pinsOnJoin(carol, roomId, [alice, bob])).toEqual([]);

    expect(await alice.ask({ action: 'pinmessage', seq })).toMatchObject({ code: 'MESSAGE_DELETED' });
    expect(await alice.ask({ action: 'pinmessage', seq: 9999 })).toMatchObject({ code: 'MESSAGE_NOT_FOUND' });
    expect(await alice.ask({ action: 'pinmessage', seq, remove: 'yes' })).toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('a room holds 50 pins: the 51st is refused until one is unpinned', async () => {
    const alice = await connect('alice-pin50');
    const roomId = await roomOf(alice);
    const seqs: number[] = [];
    for (let i = 0; i < 51; i++) seqs.push(((await say(alice, `note ${i}`)) as { seq: number }).seq);
    for (const seq of seqs.slice(0, 50)) await alice.expectReply({ action: 'pinmessage', seq });

    const last = seqs[50] as number;
    const refused = await alice.ask({ action: 'pinmessage', seq: last });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'pinmessage' });
    expect(refused.message).toMatch(/50 pinned messages/);
    const bob = await connect('bob-pin50');
    const pins = await pinsOnJoin(bob, roomId, [alice]);
    expect(pins.map((p) => p.seq).sort((a, b) => Number(a) - Number(b))).toEqual(seqs.slice(0, 50));

    await alice.expectReply({ action: 'pinmessage', seq: seqs[0], remove: true });
    await alice.expectReply({ action: 'pinmessage', seq: last });
    expect(await bob.next(pinnedOf(last, true))).toMatchObject({ username: 'alice-pin50' });
  });

  it('a moderator pins; a member pins only once the owner sets membersPin, and is refused again when it is unset', async () => {
    const alice = await connect('alice-pinset');
    const bob = await connect('bob-pinset');
    const roomId = await roomOf(alice, bob);
    const carol = await connect('carol-pinset');
    await joinRoom(carol, roomId, [alice, bob]);
    const { seq: first } = (await say(bob, 'first')) as { seq: number };
    const { seq: second } = (await say(bob, 'second')) as { seq: number };

    // Bob, a member, is refused by default, and nothing is stored: the next message takes the next seq.
    const refused = await bob.ask({ action: 'pinmessage', seq: first });
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_AUTHOR' });
    expect(refused.message).toMatch(/owner or a moderator.*membersPin/);

    // A moderator pins without the setting.
    await alice.expectReply({ action: 'setrole', username: 'carol-pinset', role: 'moderator' });
    expect(await carol.expectReply({ action: 'pinmessage', seq: first })).toMatchObject({
      message: { seq: first, pinnedBy: 'carol-pinset' },
    });

    // Only the owner sets membersPin; a bad value is refused naming the field.
    expect(await carol.ask({ action: 'setroom', membersPin: true })).toMatchObject({ code: 'FORBIDDEN' });
    const bad = await alice.ask({ action: 'setroom', membersPin: 'yes' });
    expect(bad).toMatchObject({ code: 'BAD_REQUEST' });
    expect(bad.message).toMatch(/"membersPin" must be true/);
    const joinedBefore = await connect('dave-pinset');
    expect((await joinRoom(joinedBefore, roomId, [alice, bob, carol])).membersPin).toBeUndefined();
    expect(await bob.ask({ action: 'pinmessage', seq: second })).toMatchObject({ code: 'NOT_AUTHOR' });

    expect(await alice.expectReply({ action: 'setroom', membersPin: true })).toMatchObject({
      type: 'roomchanged',
      membersPin: true,
    });
    expect(await bob.next((f) => f.type === 'roomchanged')).toMatchObject({ membersPin: true });
    expect(await bob.expectReply({ action: 'pinmessage', seq: second })).toMatchObject({
      message: { seq: second, pinnedBy: 'bob-pinset' },
    });
    const eve = await connect('eve-pinset');
    const joined = await joinRoom(eve, roomId, [alice, bob, carol, joinedBefore]);
    expect(joined.membersPin).toBe(true);
    expect((joined.pins as Frame[]).map((p) => p.seq)).toEqual([first, second]);

    expect(await alice.expectReply({ action: 'setroom', membersPin: false })).toMatchObject({
      membersPin: false,
    });
    const again = await bob.ask({ action: 'pinmessage', seq: second, remove: true });
    expect(again).toMatchObject({ code: 'NOT_AUTHOR' });
    expect(
      (await joinRoom(await connect('fay-pinset'), roomId, [alice, bob, carol, joinedBefore, eve])).pins,
    ).toEqual([expect.objectContaining({ seq: first }), expect.objectContaining({ seq: second })]);
  });

  it('the lobby has no pins', async () => {
    const alice = await connect('alice-pinlobby');
    const sent = await say(alice, 'in the lobby');
    const refused = await alice.ask({ action: 'pinmessage', seq: sent.seq });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(refused.message).toMatch(/lobby/);
  });
});
