import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWordIndex } from '#search/dynamoWords';
import { type ChatClient, type Frame, isMessage } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Search's index is written by the fan-out after its posts (docs/DECISIONS.md, "Search indexed by the fan-out"): a
 * send is acked and delivered while the Words table answers nothing, and is found once it answers again; common
 * words (protocol STOP_WORDS) get no entry, and a query of them alone is refused.
 */
jest.setTimeout(240_000);

const world = roomCloud(
  {
    // The DynamoDB fault proxy, to hold the Words table.
    faultDynamoThrottle: 0,
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000', StrikeLimit: '100000' },
  },
  { reset: (cloud) => cloud.setFaultDynamoHold([]) },
);

type Hit = { roomId: string; seq: number; text: string };
const hitsOf = (frame: Frame) => frame.results as Hit[];

/** Searches until the answer holds `count` messages (the fan-out indexes after its posts), within the test's timeout. */
async function found(client: ChatClient, request: Record<string, unknown>, count: number): Promise<Frame> {
  for (;;) {
    const answer = await client.expectReply({ action: 'search', ...request });
    if (hitsOf(answer).length >= count) return answer;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const wordIndex = () =>
  new DynamoWordIndex(DynamoDBDocumentClient.from(world.db), {
    words: world.table('WordsTable'),
    messages: world.table('MessagesTable'),
  });

it('a send is acked and delivered while the Words table answers nothing, and found once it answers', async () => {
  const alice = await world.connect('alice-held');
  const bob = await world.connect('bob-held');
  const { roomId } = await world.roomOf(alice, bob);
  world.cloud.setFaultDynamoHold([world.table('WordsTable')]);
  const heldBefore = world.cloud.dynamoFaultStats().held;

  // The ack and bob's copy come while every request to the Words table waits unanswered.
  const delivered = bob.next(isMessage(roomId, 'the heron landed by the quay'));
  const ack = await alice.expectReply({ action: 'sendmessage', message: 'the heron landed by the quay' });
  expect(ack).toMatchObject({ type: 'ack', roomId });
  expect(await delivered).toMatchObject({ seq: ack.seq });
  // The fan-out did try to index it: its write is among those held.
  for (let i = 0; i < 600 && world.cloud.dynamoFaultStats().held === heldBefore; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(world.cloud.dynamoFaultStats().held).toBeGreaterThan(heldBefore);

  world.cloud.setFaultDynamoHold([]);
  const hits = hitsOf(await found(alice, { query: 'heron', roomId }, 1));
  expect(hits).toEqual([expect.objectContaining({ seq: ack.seq, text: 'the heron landed by the quay' })]);
});

it('common words get no entry: a query of them alone is refused, beside another word they are left out', async () => {
  const alice = await world.connect('alice-stop');
  const { roomId } = await world.roomOf(alice);
  const sent = await alice.expectReply({
    action: 'sendmessage',
    message: 'Are you coming to the meeting at the office tomorrow morning with them?',
  });
  const hits = hitsOf(await found(alice, { query: 'THE meeting', roomId }, 1));
  expect(hits.map((h) => h.seq)).toEqual([sent.seq]);

  // The message's entries: its five uncommon words, none of its seven stop-words (12 entries without the list).
  const index = wordIndex();
  const now = Math.floor(Date.now() / 1000);
  for (const word of ['coming', 'meeting', 'office', 'tomorrow', 'morning'])
    expect((await index.candidates(roomId, word, 10, now)).map((c) => c.seq)).toEqual([sent.seq]);
  for (const word of ['are', 'you', 'to', 'the', 'at', 'with', 'them'])
    expect(await index.candidates(roomId, word, 10, now)).toEqual([]);

  const refused = await alice.ask({ action: 'search', query: 'the at you', roomId });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'search' });
  expect(refused.message).toMatch(/only common words/);
});
