import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { budgetShares, singleShardPosts } from '../../functions/domain/fanout/postBudget';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A repost bigger than one shard of the posting budget takes its posts in reservations of one shard each, so one full
 * shard of the second (another room's burst) does not refuse it. Chunks of 300 here: a chunk's owed posts are one
 * repost, more than one shard takes (250 of the test's 8,000 a second).
 */
const { h, addMembers, createRoom, send, seqsOf } = useFanoutMachine({
  FanoutChunkSize: '300',
  FanoutPageSize: '1000',
  FanoutMaxConcurrency: '4',
});
const PER_SECOND = 8000;

/** The shard's count for this second and the next few stands at its whole share: it takes no more posts. */
async function fillShard(shard: number): Promise<void> {
  const share = budgetShares(PER_SECOND)[shard] as number;
  const now = Math.floor(Date.now() / 1000);
  for (let second = now; second < now + 5; second++)
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.LimitsTable,
        Item: {
          limitKey: { S: `post-budget#${second}#${shard}` },
          posts: { N: String(share) },
          ttl: { N: String(second + 60) },
        },
      }),
    );
}

it('a repost of 300 members is posted on its first try while one shard of the budget is full', async () => {
  expect(singleShardPosts(PER_SECOND)).toBeLessThan(300);
  await createRoom('BIGREPOST');
  const members = await addMembers('BIGREPOST', 300);
  for (const id of members) h.managementApi.throttle.set(id, 1);
  h.beforeStep = async (step) => {
    if (step.op === 'post' && step.groups !== undefined) await fillShard(3);
  };
  const run = await h.machine.execute(await send('BIGREPOST', 1));
  expect(run.ok).toBe(true);
  const reposts = h.steps.filter((s) => s.input.op === 'post' && s.input.groups !== undefined);
  expect(reposts.length).toBe(1);
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
}, 120_000);
