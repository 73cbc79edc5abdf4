import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { indexWords } from '#protocol';
import { DynamoWordIndex } from '#search/dynamoWords';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { connect, joinRoom, roomOf, say, useChatCloud } from '../helpers/chatWorld';

/**
 * Search as members see it through the local cloud: a word finds the messages of the member's rooms holding it,
 * newest first; another room's message is never listed; a room left is refused; a deleted message and a word edited
 * away are never found; bad queries are refused with a sentence saying why. The fan-out indexes a message after
 * posting it, so a search right after a send may not find it yet: the tests search again until it does (`found`).
 */
jest.setTimeout(240_000);

const world = useChatCloud();

type Hit = { roomId: string; seq: number; username: string; text: string };
const hitsOf = (found: Frame) => found.results as Hit[];

/**
 * Searches until the answer holds `count` messages: search is eventually consistent (the fan-out indexes a message
 * after its posts), so the test waits on the condition, within the test's own timeout.
 */
async function found(client: ChatClient, request: Record<string, unknown>, count: number): Promise<Frame> {
  for (;;) {
    const answer = await client.expectReply({ action: 'search', ...request });
    if (hitsOf(answer).length >= count) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('search', () => {
  it('a word finds the messages holding it, newest first, whatever its case or accents', async () => {
    const alice = await connect('alice-find');
    const bob = await connect('bob-find');
    const roomId = await roomOf(alice, bob);
    const first = (await say(bob, 'The Café opens at nine')) as { seq: number };
    await say(bob, 'nothing to see here');
    const second = (await say(alice, 'see you at the cafe!')) as { seq: number };

    const cafe = await found(alice, { query: 'CAFÉ', roomId }, 2);
    expect(cafe).toMatchObject({ type: 'found', words: ['cafe'], roomId });
    expect(hitsOf(cafe).map((h) => [h.seq, h.username])).toEqual([
      [second.seq, 'alice-find'],
      [first.seq, 'bob-find'],
    ]);
    expect(hitsOf(cafe)[1]).toMatchObject({ roomId, text: 'The Café opens at nine' });
    // Every word must be held: "cafe nine" is only the first message.
    const both = await alice.expectReply({ action: 'search', query: 'cafe nine' });
    expect(hitsOf(both).map((h) => h.seq)).toEqual([first.seq]);
  });

  it("never lists another room's message, and refuses a room left or never joined", async () => {
    const alice = await connect('alice-own');
    const bob = await connect('bob-own');
    const mine = await roomOf(alice, bob);
    const other = await roomOf(bob);
    await say(bob, 'zebra in the other room');
    await bob.expectReply({ action: 'joinroom', roomId: mine });
    await say(bob, 'zebra here too');

    // Every room of alice's: only hers hold the hit; bob (in both) finds both.
    const his = await found(bob, { query: 'zebra' }, 2);
    const hers = await alice.expectReply({ action: 'search', query: 'zebra' });
    expect(hitsOf(hers).map((h) => h.roomId)).toEqual([mine]);
    expect(
      hitsOf(his)
        .map((h) => h.roomId)
        .sort(),
    ).toEqual([mine, other].sort());

    // Naming a room alice is not in is refused, nothing listed.
    const refused = await alice.ask({ action: 'search', query: 'zebra', roomId: other });
    expect(refused).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED', action: 'search' });
    expect(refused.message).toContain(other);

    // A room left: refused by name, and gone from "all my rooms".
    const carol = await connect('carol-own');
    await joinRoom(carol, mine, [alice]);
    expect(hitsOf(await carol.expectReply({ action: 'search', query: 'zebra' }))).toHaveLength(1);
    await carol.expectReply({ action: 'leaveroom' });
    expect(await carol.ask({ action: 'search', query: 'zebra', roomId: mine })).toMatchObject({
      code: 'NOT_SUBSCRIBED',
    });
    expect(hitsOf(await carol.expectReply({ action: 'search', query: 'zebra' }))).toEqual([]);
  });

  it('a deleted message and a word edited away are never found; the new word is', async () => {
    const alice = await connect('alice-gone');
    const roomId = await roomOf(alice);
    const deleted = (await say(alice, 'the password is swordfish')) as { seq: number };
    const edited = (await say(alice, 'meet at the lighthouse')) as { seq: number };
    // Both indexed by the fan-out before they change.
    expect(hitsOf(await found(alice, { query: 'swordfish', roomId }, 1))).toHaveLength(1);
    expect(hitsOf(await found(alice, { query: 'lighthouse', roomId }, 1))).toHaveLength(1);

    await alice.expectReply({ action: 'deletemessage', seq: deleted.seq });
    await alice.expectReply({ action: 'editmessage', seq: edited.seq, message: 'meet at the harbour' });

    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'swordfish', roomId }))).toEqual([]);
    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'lighthouse', roomId }))).toEqual([]);
    const moved = await alice.expectReply({ action: 'search', query: 'harbour', roomId });
    expect(hitsOf(moved)).toEqual([
      expect.objectContaining({ seq: edited.seq, text: 'meet at the harbour' }),
    ]);
    // The delete removed the message's entries and the edit the word it took away: the index holds neither.
    const index = wordIndexOf();
    const now = Math.floor(Date.now() / 1000);
    expect(await index.candidates(roomId, 'swordfish', 10, now)).toEqual([]);
    expect(await index.candidates(roomId, 'lighthouse', 10, now)).toEqual([]);

    // An entry a failed index write left behind still finds nothing: the message is read back as it is now.
    const ttl = now + 3600;
    await index.add(roomId, deleted.seq, Date.now(), ['swordfish'], ttl);
    await index.add(roomId, edited.seq, Date.now(), ['lighthouse'], ttl);
    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'swordfish', roomId }))).toEqual([]);
    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'lighthouse' }))).toEqual([]);
  });

  it('pages: `next` as `before` lists the following older matches, across rooms, each once, until no `more`', async () => {
    const alice = await connect('alice-page');
    const bob = await connect('bob-page');
    const one = await roomOf(alice, bob);
    const seqs: [string, number][] = [];
    for (let i = 0; i < 5; i++)
      seqs.push([one, ((await say(bob, `kumquat number ${i}`)) as { seq: number }).seq]);
    const two = await roomOf(alice);
    for (let i = 5; i < 7; i++)
      seqs.push([two, ((await say(alice, `kumquat number ${i}`)) as { seq: number }).seq]);
    await say(alice, 'no fruit here');
    await found(alice, { query: 'kumquat' }, 7);

    const pages: Hit[][] = [];
    let before: unknown;
    for (let page = 0; page < 5; page++) {
      const found = await alice.expectReply({
        action: 'search',
        query: 'kumquat',
        limit: 3,
        ...(before !== undefined && { before }),
      });
      pages.push(hitsOf(found));
      if (!found.more) {
        expect(found.next).toBeUndefined();
        break;
      }
      before = found.next;
      expect(typeof before).toBe('string');
    }
    // Newest first, three a page, every match once, and the last page says no more.
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().map((h) => [h.roomId, h.seq])).toEqual(seqs.reverse());
    expect(pages.flat().map((h) => h.text)).toEqual(
      Array.from({ length: 7 }, (_, i) => `kumquat number ${6 - i}`),
    );
  });

  it('refuses a bad query with a sentence saying why', async () => {
    const alice = await connect('alice-bad');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /"query" is required/],
      [{ query: '   ' }, /"query" is required/],
      [{ query: 'x'.repeat(101) }, /at most 100 characters/],
      [{ query: '! ? a' }, /no word to search for/],
      [{ query: 'The AND you' }, /only common words .* add a less common word/],
      [{ query: 'one two three four five six' }, /at most 5 words/],
      [{ query: 'ok', limit: 0 }, /"limit" must be a whole number from 1 to 20/],
      [{ query: 'ok', roomId: 'not a room' }, /"roomId" must be a room code/],
      [{ query: 'ok', before: 'page two' }, /"before" must be the "next" of the page before/],
      [{ query: 'ok', before: 12 }, /"before" must be the "next"/],
    ];
    for (const [body, message] of cases) {
      const refused = await alice.ask({ action: 'search', ...body });
      expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'search' });
      expect(refused.message).toMatch(message);
    }
  });

  it('measures: a room of a few thousand messages searched (p50/p95)', async () => {
    const alice = await connect('alice-many');
    const roomId = await roomOf(alice);
    const count = Number(process.env.SEARCH_MEASURE_MESSAGES ?? 2000);
    await seedRoom(roomId, count);
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const started = performance.now();
      const found = await alice.expectReply({ action: 'search', query: WORDS[i % WORDS.length], roomId });
      times.push(performance.now() - started);
      expect(hitsOf(found)).toHaveLength(20);
    }
    // The rarest word of the room's: one message in a thousand.
    expect(hitsOf(await alice.expectReply({ action: 'search', query: 'needle', roomId }))).toHaveLength(
      Math.ceil(count / 1000),
    );
    times.sort((a, b) => a - b);
    const at = (q: number) => Math.round(times[Math.ceil(q * times.length) - 1] ?? 0);
    process.stdout.write(
      `[figures] ${JSON.stringify({ search: { messages: count, searches: times.length, p50ms: at(0.5), p95ms: at(0.95) } })}\n`,
    );
  });
});

const tableOf = (id: string) => {
  const name = world.cloud.template.tables().find((t) => t.logicalId === id)?.TableName;
  if (!name) throw new Error(`template.yaml has no ${id}`);
  return name;
};

/** The word index's own adapter on the local cloud's tables. */
const wordIndexOf = () =>
  new DynamoWordIndex(DynamoDBDocumentClient.from(world.db), {
    words: tableOf('WordsTable'),
    messages: tableOf('MessagesTable'),
  });

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];

/**
 * Stores `count` messages in the room as a send stores them (the message item, its word entries through the word
 * index's own adapter), without the fan-out: the measure is the search's, not the sends'. Each holds two of WORDS, so
 * each word is in a quarter of them; one in a thousand holds "needle".
 */
async function seedRoom(roomId: string, count: number): Promise<void> {
  const documents = DynamoDBDocumentClient.from(world.db);
  const index = wordIndexOf();
  const messages = tableOf('MessagesTable');
  const start = Date.now() - count * 1000;
  const ttl = Math.floor(Date.now() / 1000) + 86400;
  for (let from = 1; from <= count; from += 25) {
    // 25 messages per 50 ms at most: "note", in every one, takes 500 writes/s, half DynamoDB's per-key wall.
    const paced = new Promise((resolve) => setTimeout(resolve, 50));
    const items = Array.from({ length: Math.min(25, count - from + 1) }, (_, i) => {
      const seq = 1000 + from + i;
      const text = `note ${seq} ${WORDS[seq % 8]} ${WORDS[(seq + 3) % 8]}${seq % 1000 === 0 ? ' needle' : ''} and some more text`;
      return {
        roomId,
        seq,
        messageId: `seed-${seq}`,
        username: 'alice-many',
        text,
        sentAt: new Date(start + seq * 1000).toISOString(),
        ttl,
      };
    });
    await documents.send(
      new BatchWriteCommand({
        RequestItems: { [messages]: items.map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    await Promise.all(
      items.map((m) => index.add(roomId, m.seq, Date.parse(m.sentAt), indexWords(m.text), ttl)),
    );
    await paced;
  }
}
