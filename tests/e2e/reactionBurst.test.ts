import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Many members react to one message at once (a popular message in a busy room): every reaction is stored once and
 * counted, and the message's count is the number of members who reacted. A reaction's change still rewrites the
 * message's item in a transaction, so a few of a burst answer BUSY first and land on the retry the client library
 * makes with the same clientMsgId (never twice: the count is exact).
 */
jest.setTimeout(120_000);

const MEMBERS = 50;
let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({ parameters: { Settings: 'FrameRateLimit=100000,StrikeLimit=100000' } });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await testCloud.cloud.close();
});

it(`${MEMBERS} members reacting to one message within a second: every reaction stored and counted`, async () => {
  const { cloud } = testCloud;
  const owner = await ChatClient.connect(cloud.wsUrl, 'owner');
  open.push(owner);
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const members = await Promise.all(
    Array.from({ length: MEMBERS }, (_, i) => ChatClient.connect(cloud.wsUrl, `fan-${i}`)),
  );
  open.push(...members);
  for (const m of members) await m.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  const post = await owner.expectReply({
    action: 'sendmessage',
    message: 'react to this',
    clientMsgId: 'p-1',
  });
  await testCloud.settle();

  // Each member reacts once, as the client library does: a BUSY answer (the message's item held by the other
  // reactions' transactions past the retries) is sent again with the same clientMsgId after a jittered wait.
  let busy = 0;
  const react = async (m: ChatClient, i: number): Promise<Frame> => {
    for (let attempt = 1; ; attempt++) {
      const requestId = `burst-${i}-${attempt}`;
      m.send({ action: 'react', seq: post.seq, reaction: '👍', clientMsgId: `r-${i}`, requestId });
      const reply = await m.next((f) => f.requestId === requestId, 60_000);
      if (reply.code !== 'BUSY' || attempt === 6) return reply;
      busy += 1;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 400 * attempt));
    }
  };
  const replies = await Promise.all(members.map(react));
  const refused = replies.filter((f) => f.type !== 'changed');
  expect(refused).toEqual([]);
  expect(busy).toBeLessThan(MEMBERS);
  const page = await owner.expectReply({ action: 'history', afterSeq: Number(post.seq) - 1, limit: 1 });
  const message = (page.messages as Frame[])[0] as Frame & {
    reactions?: { reaction: string; count: number }[];
  };
  expect(message.reactions).toEqual([expect.objectContaining({ reaction: '👍', count: MEMBERS })]);
});
