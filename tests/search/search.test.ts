import type { Connection, ConnectionStore } from '#core/ports';
import { matchSpans, searchWords } from '#protocol';
import type { FoundMessage, SearchCandidate, WordIndex } from '#search/ports';
import { parseSearch } from '#search/query';
import { search } from '#search/searching';

/**
 * The search rules without a cloud: the person's budget across connections (PersonSearchRateLimit), a word's rule
 * (what is indexed and what a client highlights), and the candidates read back newest first across rooms.
 */

const alice: Connection = {
  connectionId: 'c1',
  roomId: 'ROOMAAAA',
  username: 'alice',
  userId: 'user:alice',
  connectedAt: '2026-11-27T05:00:00.000Z',
};

function world(messages: FoundMessage[], followed: string[] = []) {
  const entries = new Map<string, SearchCandidate[]>();
  for (const m of messages)
    for (const word of searchWords(m.text)) {
      const key = `${m.roomId}#${word}`;
      entries.set(key, [
        ...(entries.get(key) ?? []),
        { roomId: m.roomId, seq: m.seq, at: Date.parse(m.sentAt) },
      ]);
    }
  const words: WordIndex = {
    add: async () => undefined,
    remove: async () => undefined,
    putStems: async () => undefined,
    removeStems: async () => undefined,
    prefixCandidates: async (roomId, prefix, limit) =>
      [...entries]
        .filter(([key]) => key.startsWith(`${roomId}#${prefix}`))
        .flatMap(([, list]) => list)
        .sort((a, b) => b.seq - a.seq)
        .slice(0, limit),
    candidates: async (roomId, word, limit) =>
      [...(entries.get(`${roomId}#${word}`) ?? [])].sort((a, b) => b.seq - a.seq).slice(0, limit),
    messages: async (keys) =>
      messages.filter((m) => keys.some((k) => k.roomId === m.roomId && k.seq === m.seq)),
  };
  const connections = {
    get: async () => alice,
    followed: async () => followed.map((roomId) => ({ roomId, username: 'alice' })),
    subscription: async (_: string, roomId: string) =>
      followed.includes(roomId) ? { roomId, username: 'alice' } : undefined,
  } as unknown as ConnectionStore;
  const rooms = { get: async () => undefined };
  return { connections, rooms, words, now: () => new Date('2026-11-27T06:00:00Z') };
}

const said = (roomId: string, seq: number, text: string, minute: number): FoundMessage => ({
  roomId,
  seq,
  username: 'bob',
  text,
  sentAt: `2026-11-27T05:${String(minute).padStart(2, '0')}:00.000Z`,
});

it("a person's searches share one budget across connections: past it, RATE_LIMITED with the wait", async () => {
  const taken: string[] = [];
  let left = 2;
  const person = {
    store: {
      takeOrWait: async (bucket: string) => {
        taken.push(bucket);
        return left-- > 0 ? { taken: true, waitMs: 0 } : { taken: false, waitMs: 5000 };
      },
    },
    rates: () => ({ search: { limit: 2, windowSeconds: 10 } }),
    now: () => new Date(),
  };
  const deps = { ...world([said('ROOMAAAA', 1, 'hello there', 1)]), person };
  const query = parseSearch({ query: 'hello' });
  expect((await search(deps, 'c1', query)).results).toHaveLength(1);
  expect((await search(deps, 'c1', query)).results).toHaveLength(1);
  await expect(search(deps, 'c1', query)).rejects.toMatchObject({
    code: 'RATE_LIMITED',
    message: expect.stringMatching(/You can send 2 searches every 10 s from all your connections together/),
  });
  expect(new Set(taken)).toEqual(new Set(['rate#search#user:alice']));
});

it('lists the rooms’ messages newest first by send time, every word held', async () => {
  const deps = world(
    [
      said('ROOMAAAA', 5, 'deploy on friday', 10),
      said('ROOMBBBB', 90, 'Deploy friday? ok', 20),
      said('ROOMBBBB', 91, 'deploy monday', 30),
      said('ROOMCCCC', 7, 'deploy friday (not my room)', 40),
    ],
    ['ROOMBBBB'],
  );
  const found = await search(deps, 'c1', parseSearch({ query: 'friday DEPLOY' }));
  expect(found.results.map((h) => [h.roomId, h.seq])).toEqual([
    ['ROOMBBBB', 90],
    ['ROOMAAAA', 5],
  ]);
});

it('a word is 2–40 letters or digits, folded; matchSpans marks them in the text as written', () => {
  expect(searchWords('Café-Bar 2024! a ÉCOLE')).toEqual(['cafe', 'bar', '2024', 'ecole']);
  const text = 'Meet at the CAFÉ, café-bar';
  expect(matchSpans(text, ['cafe']).map(([s, e]) => text.slice(s, e))).toEqual(['CAFÉ', 'café']);
});

it("a reply in a thread is listed with its root's seq (threadOf), a message of the room's flow without one", async () => {
  const reply = { ...said('ROOMAAAA', 3, 'the boat leaves at dawn', 3), threadOf: 1 };
  const deps = world([said('ROOMAAAA', 1, 'which boat today', 1), reply]);
  const found = await search(deps, 'c1', parseSearch({ query: 'boat' }));
  expect(found.results.map((hit) => [hit.seq, hit.threadOf])).toEqual([
    [3, 1],
    [1, undefined],
  ]);
  expect('threadOf' in (found.results[1] ?? {})).toBe(false);
});
