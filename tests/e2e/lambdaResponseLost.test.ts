import type { LocalCloud } from '../../local/cloud';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { declaredParameters, startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The local cloud's fault switch `faultLambdaResponseLost` (`npm start -- --fault-lambda-response-lost 1`): every
 * Lambda task's answer is lost after the function ran, so Step Functions retries it, as on AWS when an invocation's
 * answer never arrives. The steps are idempotent: a message is still posted once to each member.
 */
jest.setTimeout(120_000);

const PATIENCE_MS = 30_000;
let testCloud: TestCloud;
let cloud: LocalCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    parameters: declaredParameters({ SendRateLimit: '1000', FrameRateLimit: '100000' }),
    faultLambdaResponseLost: 1,
  });
  cloud = testCloud.cloud;
});

afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await cloud?.close();
});

const seqsOf = (client: ChatClient, roomId: string) =>
  client.frames
    .filter((f) => (f.type === 'message' || f.type === 'batch') && f.roomId === roomId)
    .flatMap((f) =>
      f.type === 'batch' ? (f.messages as Frame[]).map((m) => m.seq as number) : [f.seq as number],
    );

it('every answer lost: each Deliver step runs again under the Retry, and each member still gets each message once', async () => {
  const members: ChatClient[] = [];
  for (const name of ['lost0', 'lost1', 'lost2']) {
    const client = await ChatClient.connect(cloud.wsUrl, name, PATIENCE_MS);
    open.push(client);
    members.push(client);
  }
  const [owner, ...others] = members as [ChatClient, ...ChatClient[]];
  const roomId = (await owner.expectReply({ action: 'createroom' }, PATIENCE_MS)).roomId as string;
  for (const client of others) await client.expectReply({ action: 'joinroom', roomId }, PATIENCE_MS);
  await testCloud.settle();
  const before = {
    executions: cloud.executions(),
    claims: delivers('claim'),
    handOns: delivers('claimFailed'),
  };
  for (let i = 1; i <= 3; i++)
    await owner.expectReply(
      { action: 'sendmessage', message: `m${i}`, clientMsgId: `lost-${i}` },
      PATIENCE_MS,
    );
  await testCloud.settle();
  for (const member of members) expect(seqsOf(member, roomId).sort()).toEqual([1, 2, 3]);
  // Each message's claim ran three times (the first and the Claim's two retries); then its failure was caught and
  // HandOnFailedClaim ran three times too (its answers lost as well), finding nothing to hand on: the claim had
  // delivered and released. The execution failed, visibly.
  expect({
    claims: delivers('claim') - before.claims,
    handOns: delivers('claimFailed') - before.handOns,
  }).toEqual({ claims: 9, handOns: 9 });
  const after = cloud.executions();
  expect({
    started: after.started - before.executions.started,
    failed: after.failed - before.executions.failed,
  }).toEqual({ started: 3, failed: 3 });
});

function delivers(op: string): number {
  return testCloud.invocations.filter((i) => i.logicalId === 'DeliverFunction' && i.op === op).length;
}
