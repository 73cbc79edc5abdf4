import { REACTION_RATE } from '#protocol';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Reactions never cost a person the connection (docs/PROTOCOL.md, "Limits"): they take from their own budget, apart
 * from messages, and a reaction past it is refused with RATE_LIMITED and no strike. With the template's default
 * limits (10 messages per 10 s, 10 strikes close a connection), fifty quick reactions leave the connection open and
 * the member's messages untouched.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    settings: { SendRateLimit: '10', SendRateWindowSeconds: '10', FrameRateLimit: '100', StrikeLimit: '10' },
  });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await testCloud.cloud.close();
});

it('fifty quick reactions: the connection stays open, refusals are error frames, messages still go', async () => {
  const alice = await ChatClient.connect(testCloud.cloud.wsUrl, 'alice');
  open.push(alice);
  await alice.expectReply({ action: 'createroom' });
  const sent = await alice.expectReply({ action: 'sendmessage', message: 'react to me', clientMsgId: 'm-1' });
  const replies: Frame[] = [];
  for (let i = 0; i < 50; i++) {
    const requestId = `react-${i}`;
    alice.send({ action: 'react', seq: sent.seq, reaction: '👍', remove: i % 2 === 1, requestId });
  }
  for (let i = 0; i < 50; i++) replies.push(await alice.next((f) => f.requestId === `react-${i}`, 90_000));
  const refused = replies.filter((f) => f.type === 'error');
  // Every reaction is answered: changed, refused for the reactions' budget, or BUSY (one message's reactions meet
  // in its item's transaction; the client library retries BUSY with the same clientMsgId), never anything else.
  expect(replies.filter((f) => f.type === 'changed').length).toBeGreaterThanOrEqual(REACTION_RATE.limit);
  expect(
    refused.filter(
      (f) => !(f.code === 'BUSY' || (f.code === 'RATE_LIMITED' && /reactions every/.test(String(f.message)))),
    ),
  ).toEqual([]);
  // How many are refused depends on how fast this machine sends them (the bucket refills 3 a second): every refusal
  // is the reactions' own, never the messages' (which would be strikes and close the connection).
  // Still connected, and the message budget is whole: ten messages in a row are acked.
  expect(alice.isOpen).toBe(true);
  for (let i = 0; i < 9; i++) {
    const ack = await alice.expectReply({
      action: 'sendmessage',
      message: `after ${i}`,
      clientMsgId: `a-${i}`,
    });
    expect(ack.type).toBe('ack');
  }
});
