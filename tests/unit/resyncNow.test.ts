import { type PostDeps, post, RESYNC_PAUSES_MS } from '#deliver/post';

/**
 * A member the repost still cannot reach (429/5xx) is told at once to fetch what it missed: its resync frame alone is
 * tried again over the next seconds (deliver/post.ts resyncNow). Only a member no try reaches is noted, for its next
 * post in the room: in a quiet room that post might never come, and the member would wait for the room's next message.
 */

const frames = [
  {
    payload: '{"type":"batch","roomId":"ROOM1","messages":[{"seq":4},{"seq":5}]}',
    firstSeq: 4,
    lastSeq: 5,
    messages: 2,
  },
];

/** A stage that answers each member 429 `refusals[member]` times, then delivers; what each got, and the notes. */
function stage(refusals: Record<string, number>) {
  const got: Record<string, string[]> = {};
  const notes: string[] = [];
  const pauses: number[] = [];
  const left = { ...refusals };
  const deps: PostDeps = {
    store: {
      reserve: async () => true,
      reserveAll: async () => true,
      refund: async () => undefined,
      markResync: async (_roomId: string, connectionId: string) => {
        notes.push(connectionId);
      },
      resyncNotes: async () => ({}),
      clearResync: async () => undefined,
    } as unknown as PostDeps['store'],
    notifier: {
      post: async (connectionId: string, payload: string) => {
        if ((left[connectionId] ?? 0) > 0) {
          left[connectionId] = (left[connectionId] ?? 0) - 1;
          return 'retry';
        }
        (got[connectionId] ??= []).push(payload);
        return 'delivered';
      },
      info: async () => undefined,
    } as unknown as PostDeps['notifier'],
    postsPerSecond: 1000,
    now: () => Date.now(),
    random: () => 0,
    pause: async (ms) => void pauses.push(ms),
  };
  return { deps, got, notes, pauses };
}

it('tells a member the repost could not reach to resync from the seq before its first missed message, without a note', async () => {
  // Refused on the repost and on two tries of its resync frame, then reached.
  const s = stage({ ann: 3 });
  const report = await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, retry: { ann: 0, bob: 0 } });
  expect(report.retrying).toBe(false);
  expect(s.got.bob).toEqual([frames[0]?.payload]);
  expect(s.got.ann?.map((p) => JSON.parse(p))).toEqual([{ type: 'resync', roomId: 'ROOM1', afterSeq: 3 }]);
  expect(s.notes).toEqual([]);
  expect(s.pauses).toEqual(RESYNC_PAUSES_MS.slice(0, 3));
});

it('notes a member that no try reaches, and stops trying after the last pause', async () => {
  const s = stage({ ann: 1000 });
  await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, retry: { ann: 0 } });
  expect(s.got.ann).toBeUndefined();
  expect(s.notes).toEqual(['ann']);
  expect(s.pauses).toEqual(RESYNC_PAUSES_MS);
});

it('does not try a resync frame on a first attempt: that member goes to the repost', async () => {
  const s = stage({ ann: 1 });
  const report = await post(s.deps, { op: 'post', roomId: 'ROOM1', frames, connectionIds: ['ann'] });
  expect(report).toMatchObject({ retrying: true, retry: { ann: 0 } });
  expect(s.pauses).toEqual([]);
});
