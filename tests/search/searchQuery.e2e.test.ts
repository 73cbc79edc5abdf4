import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWordIndex } from '#search/dynamoWords';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { connect, createRoom, joinRoom, say, useChatCloud } from '../helpers/chatWorld';

/**
 * The query's syntax as members see it through the local cloud (docs/PROTOCOL.md, "Search"): `meet*` finds the words
 * starting with it where `meet` finds only the whole word, `from:` keeps one sender's messages, `in:` the rooms of
 * that name or code among the member's, and each bad term is refused with a sentence saying what is wrong. The
 * fan-out indexes a message after posting it, so the tests search again until the index holds it (`found`).
 */
jest.setTimeout(240_000);

const world = useChatCloud();

type Hit = { roomId: string; seq: number; username: string; text: string };
const hitsOf = (answer: Frame) => answer.results as Hit[];
const seqsOf = (answer: Frame) => hitsOf(answer).map((h) => h.seq);

/** Searches until the answer holds `count` messages (the index is written after the fan-out's posts). */
async function found(client: ChatClient, request: Record<string, unknown>, count: number): Promise<Frame> {
  for (;;) {
    const answer = await client.expectReply({ action: 'search', ...request });
    if (hitsOf(answer).length >= count) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Alice's two rooms: an unnamed one holding her "meeting" note, then "Garden Club" (the room her connection shows),
 * where bob says "meetings" and she says "meetup". Waits until all three are indexed.
 */
async function gardenAndNotes() {
  const alice = await connect('alice-syntax');
  const bob = await connect('bob-syntax');
  const notes = await createRoom(alice);
  const note = (await say(alice, 'meeting notes are pinned here')) as { seq: number };
  const garden = (await alice.expectReply({ action: 'createroom', name: 'Garden Club' })).roomId as string;
  await joinRoom(bob, garden, [alice]);
  const moved = (await say(bob, 'the meetings move to friday')) as { seq: number };
  const meetup = (await say(alice, 'meetup at noon by the shed')) as { seq: number };
  await found(alice, { query: 'meet*' }, 3);
  return { alice, bob, notes, garden, note: note.seq, moved: moved.seq, meetup: meetup.seq };
}

describe('search syntax', () => {
  it('a prefix finds every word starting with it; the word alone finds only itself', async () => {
    const { alice, note, moved, meetup } = await gardenAndNotes();

    const prefixed = await alice.expectReply({ action: 'search', query: 'MEET*' });
    expect(prefixed).toMatchObject({ type: 'found', words: [], prefixes: ['meet'] });
    expect(seqsOf(prefixed).sort()).toEqual([note, moved, meetup].sort());
    // Whole words: no message holds "meet" itself.
    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'meet' }))).toEqual([]);
    // A longer prefix narrows; a word beside a prefix must be held too.
    expect(seqsOf(await alice.expectReply({ action: 'search', query: 'meetu*' }))).toEqual([meetup]);
    expect(seqsOf(await alice.expectReply({ action: 'search', query: 'meet* friday' }))).toEqual([moved]);
  });

  it('from: keeps one sender’s messages, any case', async () => {
    const { alice, moved } = await gardenAndNotes();

    const bobs = await alice.expectReply({ action: 'search', query: 'meet* from:BOB-syntax' });
    expect(hitsOf(bobs).map((h) => [h.seq, h.username])).toEqual([[moved, 'bob-syntax']]);
  });

  it('in: keeps the room named by its name or its code, and narrows with from:', async () => {
    const { alice, notes, garden, note, moved, meetup } = await gardenAndNotes();

    const byName = await alice.expectReply({ action: 'search', query: 'meet* in:"garden club"' });
    expect(hitsOf(byName).map((h) => h.roomId)).toEqual([garden, garden]);
    expect(seqsOf(byName).sort()).toEqual([moved, meetup].sort());
    const byCode = await alice.expectReply({ action: 'search', query: `in:${notes.toLowerCase()} meet*` });
    expect(hitsOf(byCode).map((h) => [h.roomId, h.seq])).toEqual([[notes, note]]);

    const both = await alice.expectReply({
      action: 'search',
      query: 'meet* in:"Garden Club" from:alice-syntax',
    });
    expect(seqsOf(both)).toEqual([meetup]);
  });

  it('an edit takes a word out of its prefix entries and puts the new one in', async () => {
    const { alice, garden, meetup } = await gardenAndNotes();
    await alice.expectReply({ action: 'editmessage', seq: meetup, message: 'lunch at noon by the shed' });

    const index = new DynamoWordIndex(DynamoDBDocumentClient.from(world.db), {
      words: tableOf('WordsTable'),
      messages: tableOf('MessagesTable'),
    });
    const now = Math.floor(Date.now() / 1000);
    expect(await index.prefixCandidates(garden, 'meetu', 10, now)).toEqual([]);
    expect((await index.prefixCandidates(garden, 'lun', 10, now)).map((c) => c.seq)).toEqual([meetup]);
    expect(seqsOf(await alice.expectReply({ action: 'search', query: 'lunc*' }))).toEqual([meetup]);
  });

  it.each([
    ['an empty from:', 'meet* from:', /"from:" needs a name/],
    ['an empty in:', 'meet* in:""', /"in:" needs a room/],
    ['from: given twice', 'meet* from:ana from:bob', /"from:" may be given once/],
    [
      'an in: naming none of the rooms',
      'meet* in:"Rose Club"',
      /"in:Rose Club" names none of the rooms searched/,
    ],
    ['a prefix too short', 'me*', /"me\*" is too short: a prefix is 3 or more letters/],
    ['a lone star', 'meeting *', /"\*" ends a prefix/],
    ['filters without a word', 'from:alice-syntax in:"Garden Club"', /only narrow a search of words/],
  ])('refuses %s with a sentence saying what is wrong', async (_, query, sentence) => {
    const alice = await connect('alice-bad');
    const garden = (await alice.expectReply({ action: 'createroom', name: 'Garden Club' })).roomId as string;
    const refused = await alice.ask({ action: 'search', query, roomId: garden });
    expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'search' });
    expect(refused.message).toMatch(sentence);
  });
});

const tableOf = (id: string) => {
  const name = world.cloud.template.tables().find((t) => t.logicalId === id)?.TableName;
  if (!name) throw new Error(`template.yaml has no ${id}`);
  return name;
};
