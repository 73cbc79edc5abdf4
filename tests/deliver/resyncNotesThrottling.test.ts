import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoResyncNotes } from '#deliver/dynamoResyncNotes';
import { post } from '#deliver/post';
import { postStage } from '../helpers/fanoutMachine';

/**
 * A chunk's post reads the room's resync notes before it posts. Throttled past the SDK's retries, that read used to
 * throw: Deliver failed, the execution failed with it, and the fan-out queue handed the room's batch out again five
 * minutes later, so every member of the room's other chunks (already posted) got the same seqs twice. Now the read
 * rides out the throttling, and a read that still fails posts the chunk without resync frames: the notes stay for the
 * member's next post, and meanwhile the member finds its gap from the next seq (docs/CLIENT.md).
 */

function throttled(): Error {
  return Object.assign(
    new Error('The level of configured provisioned throughput for the table was exceeded.'),
    {
      name: 'ProvisionedThroughputExceededException',
    },
  );
}

it('reads the notes again while their Query is throttled', async () => {
  let queries = 0;
  const db = {
    send: async (command: unknown) => {
      if (!(command instanceof QueryCommand)) throw new Error('only the notes Query is expected');
      if (++queries <= 2) throw throttled();
      return { Items: [{ connectionId: 'a', resyncAfter: 7 }] };
    },
  };
  const pauses: number[] = [];
  const notes = new DynamoResyncNotes(
    db as unknown as ConstructorParameters<typeof DynamoResyncNotes>[0],
    { subscriptions: 'Subscriptions', limits: 'Limits', resyncIndex: 'ResyncIndex' },
    { pause: async (ms) => void pauses.push(ms), random: () => 1 },
  );
  expect(await notes.resyncNotes('ROOM1234')).toEqual({ a: 7 });
  expect(queries).toBe(3);
  expect(pauses).toHaveLength(2);
});

it('posts the chunk, and answers, when the notes cannot be read at all', async () => {
  const posted: string[] = [];
  const { deps } = postStage({
    store: { resyncNotes: () => Promise.reject(throttled()) },
    post: async (connectionId, payload) => {
      posted.push(`${connectionId} ${payload}`);
      return 'delivered';
    },
  });
  const frame = '{"type":"message","seq":21}';
  const report = await post(deps, {
    op: 'post',
    roomId: 'ROOM1234',
    frames: [{ payload: frame, firstSeq: 21, lastSeq: 21, messages: 1 }],
    connectionIds: ['a', 'b'],
  });
  expect(posted.sort()).toEqual([`a ${frame}`, `b ${frame}`]);
  expect(report).toMatchObject({ retrying: false, goneIds: [] });
});
