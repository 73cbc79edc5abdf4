import { ChatClient, type Frame, isPresence, messagesIn } from '../helpers/chatClient';
import {
  closeAfterTest,
  connect,
  joinRoom,
  roomOf,
  say,
  useChatCloud,
  waitUntil,
} from '../helpers/chatWorld';

/**
 * Edits, deletes and reactions as members see them through the local cloud: each change reaches the room live, takes
 * the room's next seq, and `history` gives both the change and the message's final state, also to a member who was
 * away; retries are idempotent; a busy room's reactions share posts.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

const isChange = (type: string, targetSeq: number) => (f: Frame) =>
  f.type === type && f.targetSeq === targetSeq;

async function historyOf(client: ChatClient, afterSeq?: number): Promise<Frame[]> {
  const reply = await client.expectReply({ action: 'history', ...(afterSeq !== undefined && { afterSeq }) });
  return reply.messages as Frame[];
}

describe('edit and delete', () => {
  it('an edit reaches the room live, history shows the edited text, and a retry changes nothing twice', async () => {
    const alice = await connect('alice-edit');
    const bob = await connect('bob-edit');
    await roomOf(alice, bob);
    const { seq } = (await say(alice, 'helo')) as { seq: number };

    const edit = { action: 'editmessage', seq, message: 'hello', clientMsgId: 'fix-1' };
    const first = await alice.expectReply(edit);
    expect(first).toMatchObject({ type: 'changed', seq: seq + 1, message: { seq, text: 'hello' } });
    const live = await bob.next(isChange('edited', seq));
    expect(live).toMatchObject({ seq: seq + 1, text: 'hello', username: 'alice-edit' });

    const retry = await alice.expectReply(edit);
    expect(retry).toMatchObject({ type: 'changed', seq: first.seq });
    const history = await historyOf(bob);
    expect(history.filter((f) => f.type === 'edited')).toHaveLength(1);
    const message = history.find((f) => f.type === 'message' && f.seq === seq);
    expect(message).toMatchObject({ text: 'hello', changeSeq: seq + 1 });
    expect(Number.isNaN(Date.parse(String(message?.editedAt)))).toBe(false);
  });

  it('a deleted message becomes a tombstone, its edits lose their text, and a later edit is refused', async () => {
    const alice = await connect('alice-del');
    const bob = await connect('bob-del');
    await roomOf(alice, bob);
    const { seq } = (await say(alice, 'secret')) as { seq: number };
    await alice.expectReply({ action: 'editmessage', seq, message: 'still secret' });
    const deleted = await alice.expectReply({ action: 'deletemessage', seq });
    expect(deleted).toMatchObject({ message: { seq, text: '', deleted: 'author' } });
    expect(await bob.next(isChange('deleted', seq))).toMatchObject({ by: 'author' });

    const refused = await alice.ask({ action: 'editmessage', seq, message: 'again' });
    expect(refused).toMatchObject({ type: 'error', code: 'MESSAGE_DELETED', action: 'editmessage' });
    expect((await alice.ask({ action: 'react', seq, reaction: '👍' })).code).toBe('MESSAGE_DELETED');
    const history = JSON.stringify(await historyOf(bob));
    expect(history).not.toContain('secret');
  });

  it("a room's owner deletes anyone's message; another member can neither delete nor edit it", async () => {
    const owner = await connect('owner-mod');
    const bob = await connect('bob-mod');
    const carol = await connect('carol-mod');
    await roomOf(owner, bob, carol);
    const { seq } = (await say(bob, 'spam')) as { seq: number };

    expect(await carol.ask({ action: 'deletemessage', seq })).toMatchObject({ code: 'NOT_AUTHOR' });
    expect(await carol.ask({ action: 'editmessage', seq, message: 'x' })).toMatchObject({
      code: 'NOT_AUTHOR',
    });
    expect(await owner.ask({ action: 'editmessage', seq, message: 'x' })).toMatchObject({
      code: 'NOT_AUTHOR',
    });
    await owner.expectReply({ action: 'deletemessage', seq });
    expect(await bob.next(isChange('deleted', seq))).toMatchObject({ by: 'owner', username: 'owner-mod' });
    expect(await owner.ask({ action: 'deletemessage', seq: 9999 })).toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
  });
});

/**
 * Sends a change with its clientMsgId and retries it while the chat answers that it is busy, as the client library
 * does: a burst on one message meets DynamoDB's transaction conflicts, and a retry never changes anything twice.
 */
async function retried(client: ChatClient, frame: Record<string, unknown>): Promise<Frame> {
  for (let tries = 1; ; tries++) {
    client.send(frame);
    // Many requests are in flight on this connection: each reply is told by its clientMsgId.
    const reply = await client.next(
      (f) => (f.type === 'changed' || f.type === 'error') && f.clientMsgId === frame.clientMsgId,
    );
    if (reply.type !== 'error') return reply;
    if (tries >= 8 || !String(reply.message).includes('Retry')) throw new Error(JSON.stringify(reply));
  }
}

describe('reactions', () => {
  it('counts per reaction, your own marked, and adding or removing twice changes nothing', async () => {
    const alice = await connect('alice-react');
    const bob = await connect('bob-react');
    await roomOf(alice, bob);
    const { seq } = (await say(alice, 'lunch?')) as { seq: number };
    await alice.expectReply({ action: 'react', seq, reaction: '👍' });
    const added = await bob.expectReply({ action: 'react', seq, reaction: '👍' });
    expect(added).toMatchObject({ message: { reactions: [{ reaction: '👍', count: 2, mine: true }] } });
    const again = await bob.expectReply({ action: 'react', seq, reaction: '👍' });
    expect(again.seq).toBeUndefined();
    expect(await alice.next(isChange('reaction', seq))).toMatchObject({ count: 1, added: true });

    await bob.expectReply({ action: 'react', seq, reaction: '👍', remove: true });
    const removedTwice = await bob.expectReply({ action: 'react', seq, reaction: '👍', remove: true });
    expect(removedTwice).toMatchObject({ message: { reactions: [{ reaction: '👍', count: 1 }] } });
    expect((removedTwice.message as { reactions: { mine?: boolean }[] }).reactions[0]?.mine).toBeUndefined();
    const inHistory = (await historyOf(alice)).find((f) => f.type === 'message' && f.seq === seq);
    // Bob took his back: Alice, who gave it first, is named.
    expect(inHistory?.reactions).toEqual([{ reaction: '👍', count: 1, mine: true, by: ['alice-react'] }]);
    expect(await bob.ask({ action: 'react', seq, reaction: 'ok' })).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('a burst of reactions in a busy room reaches members in fewer posts than reactions', async () => {
    const members = await Promise.all(Array.from({ length: 6 }, (_, i) => connect(`burst${i}`)));
    await roomOf(...members);
    const [author] = members as [ChatClient];
    const { seq } = (await say(author, 'vote')) as { seq: number };
    const reactions = ['👍', '🎉', '❤️', '😂', '👀'];
    const marks = members.map((m) => m.mark());
    const replies = await Promise.all(
      members.flatMap((member, m) =>
        reactions.map((reaction, r) =>
          retried(member, { action: 'react', seq, reaction, clientMsgId: `r${m}-${r}` }),
        ),
      ),
    );
    const seqs = replies.map((r) => r.seq as number).sort((a, b) => a - b);
    for (const [i, member] of members.entries()) {
      const posts = () =>
        member.since(marks[i] as number).filter((f) => messagesIn(f).length > 0 || f.type === 'reaction');
      const delivered = () =>
        new Set(
          posts()
            .flatMap((f) => (f.type === 'batch' ? messagesIn(f) : [f]))
            .map((f) => f.seq),
        );
      // Every reaction arrives live. Not necessarily in seq order: two reactions published in the other order than
      // their seqs ride two batches (the client fills such a hole from history if it waits too long).
      await waitUntil(
        () => seqs.every((s) => delivered().has(s)),
        `every reaction live at ${member.username}`,
        30_000,
      );
      expect(posts().length).toBeLessThan(seqs.length);
    }
    const message = (await historyOf(author)).find((f) => f.type === 'message' && f.seq === seq);
    expect(message?.reactions).toHaveLength(reactions.length);
    for (const r of (message?.reactions ?? []) as { count: number }[]) expect(r.count).toBe(members.length);
  });
});

describe('a member who was away', () => {
  it('resumes into the final state: the changes after its last seq, and the messages as they are now', async () => {
    const alice = await connect('alice-away');
    const resumeToken = 'CarolResumeToken123456';
    const carol = await ChatClient.connect(world.cloud.wsUrl, 'carol-away', undefined, { resumeToken });
    closeAfterTest(carol);
    const roomId = await roomOf(alice, carol);
    const one = (await say(alice, 'first')) as { seq: number };
    const two = (await say(alice, 'second')) as { seq: number };
    await carol.expectReply({ action: 'react', seq: one.seq, reaction: '🎉' });
    const lastSeen = (await carol.next((f) => f.type === 'reaction' && f.targetSeq === one.seq))
      .seq as number;
    await carol.close();
    // Her old connection has left the room before she comes back: she was away, not reconnecting at once.
    await alice.next(isPresence(roomId, 'leave', 'carol-away'));

    await alice.expectReply({ action: 'editmessage', seq: one.seq, message: 'first, edited' });
    await alice.expectReply({ action: 'deletemessage', seq: two.seq });
    await alice.expectReply({ action: 'react', seq: one.seq, reaction: '🎉' });

    const back = await ChatClient.connect(world.cloud.wsUrl, 'carol-away', undefined, { resumeToken });
    closeAfterTest(back);
    await joinRoom(back, roomId, [alice]);
    const missed = await historyOf(back, lastSeen);
    expect(missed.map((f) => f.type)).toEqual(['edited', 'deleted', 'reaction']);
    expect(missed[2]).toMatchObject({ count: 2, targetSeq: one.seq });
    const now = await historyOf(back);
    expect(now.find((f) => f.seq === one.seq)).toMatchObject({
      text: 'first, edited',
      reactions: [{ reaction: '🎉', count: 2, mine: true }],
    });
    expect(now.find((f) => f.seq === two.seq)).toMatchObject({ text: '', deleted: 'author' });
  });
});
