import type { ChatMessage } from '#protocol';
import type { WordEntries } from '#search/dynamoWords';
import { indexTurn, type TurnIndex } from '#search/indexing';
import { framesOf } from '../helpers/roomFrames';

/**
 * The fan-out's index step (functions/search/indexing.ts): the words of every live message a turn posted, whether
 * it came alone or in a batch frame, without stop-words, under its room and seq with its send time and end.
 */
const SENT = '2026-01-01T00:00:00.000Z';
const RETENTION = 7 * 86400;

const message = (seq: number, text: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({
  roomId: 'ROOM',
  seq,
  messageId: `id-${seq}`,
  username: 'alice',
  text,
  sentAt: SENT,
  ...extra,
});

function recorder() {
  const written: WordEntries[][] = [];
  const index: TurnIndex = {
    addMany: async (entries) => {
      written.push([...entries]);
    },
  };
  return { written, index };
}

it("puts each live message's words of a turn, in a batch or alone, stop-words left out", async () => {
  const { written, index } = recorder();
  const frames = [
    { payload: JSON.stringify({ type: 'presence', roomId: 'ROOM', event: 'join' }), lastSeq: 0, messages: 0 },
    ...framesOf('ROOM', [
      message(7, 'The heron is at the quay'),
      message(8, '', { deleted: 'author' } as Partial<ChatMessage>),
      message(9, 'to be or not to be'),
      message(10, 'Heron again, at dawn'),
    ]),
  ];
  const report = await indexTurn({ op: 'index', roomId: 'ROOM', frames }, index, {
    enabled: true,
    retentionSeconds: RETENTION,
  });
  const at = Date.parse(SENT);
  const ttl = at / 1000 + RETENTION;
  // One write of the turn; the deleted message and the one of stop-words only ("not" is no stop-word) as they are.
  expect(written).toEqual([
    [
      { roomId: 'ROOM', seq: 7, at, ttl, words: ['heron', 'quay'] },
      { roomId: 'ROOM', seq: 9, at, ttl, words: ['not'] },
      { roomId: 'ROOM', seq: 10, at, ttl, words: ['heron', 'again', 'dawn'] },
    ],
  ]);
  // Six words, each with its stem's entry (her, qua, not, her, aga, daw: one per message and stem).
  expect(report).toEqual({ messages: 3, entries: 12 });
});

it('writes nothing when SearchIndexing is off, or for a turn of no message', async () => {
  const { written, index } = recorder();
  const frames = framesOf('ROOM', [message(3, 'heron')]);
  expect(
    await indexTurn({ op: 'index', roomId: 'ROOM', frames }, index, {
      enabled: false,
      retentionSeconds: RETENTION,
    }),
  ).toEqual({ messages: 0, entries: 0 });
  const presence = [{ payload: '{"type":"presence","roomId":"ROOM"}', lastSeq: 0, messages: 0 }];
  await indexTurn({ op: 'index', roomId: 'ROOM', frames: presence }, index, {
    enabled: true,
    retentionSeconds: RETENTION,
  });
  expect(written).toEqual([]);
});

it('a write that fails is thrown, for the machine to move on to the cursor', async () => {
  const failing: TurnIndex = { addMany: async () => Promise.reject(new Error('throttled')) };
  await expect(
    indexTurn({ op: 'index', roomId: 'ROOM', frames: framesOf('ROOM', [message(3, 'heron')]) }, failing, {
      enabled: true,
      retentionSeconds: RETENTION,
    }),
  ).rejects.toThrow('throttled');
  await expect(
    indexTurn({ op: 'index', roomId: 'ROOM' } as never, failing, {
      enabled: true,
      retentionSeconds: RETENTION,
    }),
  ).rejects.toThrow(/roomId and frames/);
});
