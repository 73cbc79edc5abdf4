import type { ChatClient, Frame } from '../helpers/chatClient';
import { connect, roomOf, say, useChatCloud } from '../helpers/chatWorld';

/**
 * Replies through the local cloud: a message may answer another live message of its room (`replyTo`), reaches the
 * room with the original's seq and author, and `history` quotes the original as it reads now (deleted included);
 * a reply to anything else is refused and stores nothing.
 */
jest.setTimeout(240_000);

useChatCloud();

const isMessage = (seq: number) => (f: Frame) => f.type === 'message' && f.seq === seq;

async function historyOf(client: ChatClient, query: Record<string, unknown> = {}): Promise<Frame[]> {
  const reply = await client.expectReply({ action: 'history', ...query });
  return reply.messages as Frame[];
}

/** The room's newest seq as `who` does not tell it: a history page's last event. */
async function lastSeq(client: ChatClient): Promise<number> {
  return Number((await historyOf(client)).at(-1)?.seq ?? 0);
}

describe('replies', () => {
  it('a reply reaches the room with its original, and history quotes the original as it reads now', async () => {
    const alice = await connect('alice-reply');
    const bob = await connect('bob-reply');
    await roomOf(alice, bob);
    const original = (await say(alice, 'Lunch at noon?')) as { seq: number };

    const ack = await bob.expectReply({ action: 'sendmessage', message: 'Yes!', replyTo: original.seq });
    const live = await alice.next(isMessage(Number(ack.seq)));
    expect(live).toMatchObject({ text: 'Yes!', replyTo: { seq: original.seq, username: 'alice-reply' } });

    const page = await historyOf(alice);
    expect(page.find((f) => f.seq === ack.seq)?.replyTo).toEqual({
      seq: original.seq,
      username: 'alice-reply',
      text: 'Lunch at noon?',
    });
    // The original outside the page is read for the quote too, and its edit shows.
    await alice.expectReply({ action: 'editmessage', seq: original.seq, message: 'Lunch at one?' });
    const after = await historyOf(alice, { afterSeq: original.seq });
    expect(after.find((f) => f.seq === ack.seq)?.replyTo).toMatchObject({ text: 'Lunch at one?' });
  });

  it('once the original is deleted, history quotes it as deleted and keeps none of its text', async () => {
    const alice = await connect('alice-rdel');
    const bob = await connect('bob-rdel');
    await roomOf(alice, bob);
    const original = (await say(alice, 'my secret plan')) as { seq: number };
    const ack = await bob.expectReply({ action: 'sendmessage', message: 'nice', replyTo: original.seq });
    await alice.expectReply({ action: 'deletemessage', seq: original.seq });

    for (const page of [await historyOf(bob), await historyOf(bob, { afterSeq: original.seq })]) {
      expect(page.find((f) => f.seq === ack.seq)?.replyTo).toEqual({
        seq: original.seq,
        username: 'alice-rdel',
        deleted: true,
      });
      expect(JSON.stringify(page)).not.toContain('secret');
    }
    // Deleting the reply itself leaves a tombstone that quotes nothing.
    await bob.expectReply({ action: 'deletemessage', seq: ack.seq });
    const tombstone = (await historyOf(alice)).find((f) => f.seq === ack.seq);
    expect(tombstone).toMatchObject({ deleted: 'author', text: '' });
    expect(tombstone?.replyTo).toBeUndefined();
    // A deleted message can't be replied to any more.
    const refused = await bob.ask({ action: 'sendmessage', message: 'late', replyTo: original.seq });
    expect(refused).toMatchObject({ type: 'error', code: 'MESSAGE_DELETED', action: 'sendmessage' });
  });

  it('a reply to a seq that is not a message of the room is refused with a clear error and stores nothing', async () => {
    const alice = await connect('alice-rbad');
    const bob = await connect('bob-rbad');
    await roomOf(alice, bob);
    const original = (await say(alice, 'hello')) as { seq: number };
    const edit = await alice.expectReply({ action: 'editmessage', seq: original.seq, message: 'hello!' });
    const before = await lastSeq(alice);

    const cases: [unknown, string][] = [
      [999, 'MESSAGE_NOT_FOUND'],
      [edit.seq, 'MESSAGE_NOT_FOUND'], // a change holds that seq, not a message
      [0, 'BAD_REQUEST'],
      ['1', 'BAD_REQUEST'],
      [1.5, 'BAD_REQUEST'],
    ];
    for (const [replyTo, code] of cases) {
      const refused = await bob.ask({ action: 'sendmessage', message: 'hm', replyTo });
      expect({ replyTo, ...refused }).toMatchObject({ replyTo, type: 'error', code });
      expect(String(refused.message)).toMatch(/repl/i);
    }
    expect(await lastSeq(alice)).toBe(before);
  });

  it("a reply can't reach into another room: the seq is looked up in the sender's own room", async () => {
    const alice = await connect('alice-rx');
    const bob = await connect('bob-rx');
    await roomOf(alice);
    await roomOf(bob);
    // Alice's room has messages 1..3; Bob's room has none, so seq 2 is nothing there.
    for (const text of ['a', 'b', 'c']) await say(alice, text);
    const refused = await bob.ask({ action: 'sendmessage', message: 'peek', replyTo: 2 });
    expect(refused).toMatchObject({ type: 'error', code: 'MESSAGE_NOT_FOUND' });
  });
});
