import { post } from '#deliver/post';
import { postStage } from '../helpers/fanoutMachine';

/**
 * Deliver's post when the posting budget's item cannot be written (throttled past the SDK's retries, or held by a
 * transaction on every try): the chunk is treated as over budget, its members go to the repost and then to a resync
 * note, and Deliver answers. Throwing instead fails the execution, and the room's whole batch waits out the fan-out
 * queue's visibility timeout before anyone gets it live.
 */
const failing = () =>
  Promise.reject(Object.assign(new Error('held'), { name: 'TransactionConflictException' }));

/** Deliver's ports with a budget whose every write fails. */
const stage = () => postStage({ store: { reserve: failing, reserveAll: failing } });

const frames = [{ payload: '{"type":"message","seq":1}', firstSeq: 1, lastSeq: 1, messages: 1 }];

it('hands the chunk to its repost, posting nothing, when the budget cannot be written', async () => {
  const { deps, posted } = stage();
  const report = await post(deps, {
    op: 'post',
    roomId: 'ROOM1234',
    frames,
    connectionIds: ['a', 'b'],
  });
  expect(posted).toEqual([]);
  expect(report).toMatchObject({ retrying: true, retry: { a: 0, b: 0 }, goneIds: [] });
}, 240_000);

it('notes the members for a resync on the repost, and answers, when the budget still cannot be written', async () => {
  const { deps, posted, notes } = stage();
  const report = await post(deps, {
    op: 'post',
    roomId: 'ROOM1234',
    frames,
    retry: { a: 0, b: 0 },
  });
  expect(posted).toEqual([]);
  expect(report.retrying).toBe(false);
  expect(notes.sort()).toEqual(['a', 'b']);
});
