import type { ChatClient, Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * The local cloud's fault switch `faultLambdaResponseLost` (`npm start -- --fault-lambda-response-lost 1`): every
 * Lambda task's answer is lost after the function ran, so Step Functions retries it, as on AWS when an invocation's
 * answer never arrives. With every answer lost the fan-out cannot go on: its execution fails visibly after Prepare's
 * Retry, nobody is posted anything twice, and the room's wake stays in the fan-out queue for its next receive (after
 * the visibility timeout; then the dead-letter queue, alarmed), never dropped, its messages kept in the room's log.
 */
jest.setTimeout(240_000);

const PATIENCE_MS = 90_000;
const stage = roomCloud(
  {
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000' },
    faultLambdaResponseLost: 1,
  },
  { closeClients: 'file', patienceMs: PATIENCE_MS },
);

const seqsOf = (client: ChatClient, roomId: string) =>
  client.frames
    .filter((f) => (f.type === 'message' || f.type === 'batch') && f.roomId === roomId)
    .flatMap((f) =>
      f.type === 'batch' ? (f.messages as Frame[]).map((m) => m.seq as number) : [f.seq as number],
    );

it('every answer lost: the execution fails after Prepare runs again under its Retry, nothing is posted twice, and the events stay queued', async () => {
  const before = { executions: stage.cloud.executions(), prepares: delivers('prepare') };
  const members: ChatClient[] = [];
  for (const name of ['lost0', 'lost1', 'lost2']) {
    members.push(await stage.connect(name));
  }
  const [owner, ...others] = members as [ChatClient, ...ChatClient[]];
  const roomId = (await owner.expectReply({ action: 'createroom' }, PATIENCE_MS)).roomId as string;
  for (const client of others) await client.expectReply({ action: 'joinroom', roomId }, PATIENCE_MS);
  for (let i = 1; i <= 3; i++)
    await owner.expectReply(
      { action: 'sendmessage', message: `m${i}`, clientMsgId: `lost-${i}` },
      PATIENCE_MS,
    );
  await stage.test.settle();
  for (const member of members) {
    const seqs = seqsOf(member, roomId);
    expect(new Set(seqs).size).toBe(seqs.length);
  }
  const after = stage.cloud.executions();
  const started = after.started - before.executions.started;
  expect(started).toBeGreaterThanOrEqual(1);
  expect(after.failed - before.executions.failed).toBe(started);
  expect(delivers('prepare') - before.prepares).toBe(2 * started);
  // The room's wake is still in the fan-out queue, in its failed batch (in flight until its visibility timeout): its
  // next receive reads the three messages from the room's log, which holds them. A body is the event's detail; a
  // wake's has a seq, a presence change's not. The room stays awake meanwhile: its later sends need no wake of their
  // own (the first send woke it; the other two found it awake).
  const queue = stage.cloud.sqs.queueSpecs().find((q) => q.logicalId === 'FanoutQueue');
  const held = stage.cloud.sqs
    .peek(queue?.arn as string)
    .filter((m) => m.groupId === roomId && typeof JSON.parse(m.body).seq === 'number');
  expect(held.map((m) => JSON.parse(m.body).seq)).toEqual([1]);
  const history = await owner.expectReply({ action: 'history', afterSeq: 0 }, PATIENCE_MS);
  expect((history.messages as Frame[]).map((m) => m.seq)).toEqual([1, 2, 3]);
});

function delivers(op: string): number {
  return stage.test.invocations.filter((i) => i.logicalId === 'DeliverFunction' && i.op === op).length;
}
