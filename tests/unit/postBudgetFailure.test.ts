import { type PostDeps, post } from '#deliver/post';

/**
 * Deliver's post when the posting budget's item cannot be written (throttled past the SDK's retries, or held by a
 * transaction on every try): the chunk is treated as over budget, its members go to the repost and then to a resync
 * note, and Deliver answers. Throwing instead fails the execution, and the room's whole batch waits out the fan-out
 * queue's visibility timeout before anyone gets it live.
 */
const failing = () =>
  Promise.reject(Object.assign(new Error('held'), { name: 'TransactionConflictException' }));

function deps(posted: string[], notes: string[]): PostDeps {
  return {
    store: {
      reserve: failing,
      reserveAll: failing,
      refund: async () => undefined,
      markResync: async (_roomId: string, connectionId: string) => {
        notes.push(connectionId);
      },
      resyncNotes: async () => ({}),
      clearResync: async () => undefined,
    } as unknown as PostDeps['store'],
    notifier: {
      post: async (connectionId: string) => {
        posted.push(connectionId);
        return 'delivered';
      },
      info: async () => undefined,
    } as unknown as PostDeps['notifier'],
    postsPerSecond: 100,
    now: () => Date.now(),
    random: () => 0,
  };
}

const frames = [{ payload: '{"type":"message","seq":1}', firstSeq: 1, lastSeq: 1, messages: 1 }];

it('hands the chunk to its repost, posting nothing, when the budget cannot be written', async () => {
  const posted: string[] = [];
  const report = await post(deps(posted, []), {
    op: 'post',
    roomId: 'ROOM1234',
    frames,
    connectionIds: ['a', 'b'],
  });
  expect(posted).toEqual([]);
  expect(report).toMatchObject({ retrying: true, retry: { a: 0, b: 0 }, goneIds: [] });
}, 15_000);

it('notes the members for a resync on the repost, and answers, when the budget still cannot be written', async () => {
  const posted: string[] = [];
  const notes: string[] = [];
  const report = await post(deps(posted, notes), {
    op: 'post',
    roomId: 'ROOM1234',
    frames,
    retry: { a: 0, b: 0 },
  });
  expect(posted).toEqual([]);
  expect(report.retrying).toBe(false);
  expect(notes.sort()).toEqual(['a', 'b']);
});
