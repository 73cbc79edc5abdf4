import { ChatClient } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * One message's way, followed by its correlation id (the messageId) at LogLevel DEBUG: SendMessage's log, the rule
 * that matched its event, the state machine execution it started and Deliver's log of each chunk.
 */
let testCloud: TestCloud;

beforeAll(async () => {
  testCloud = await startTestCloud({ logLevel: 'DEBUG', parameters: { LogLevel: 'DEBUG' } });
}, 240_000);

afterAll(async () => {
  await testCloud?.cloud.close();
});

it('prints every step of one message with its correlation id', async () => {
  const { cloud, logs } = testCloud;
  const alice = await ChatClient.connect(cloud.wsUrl, 'alice');
  const bob = await ChatClient.connect(cloud.wsUrl, 'bob');
  try {
    const roomId = String((await alice.expectReply({ action: 'createroom' })).roomId);
    await bob.expectReply({ action: 'joinroom', roomId });
    const ack = await alice.expectReply({ action: 'sendmessage', message: 'follow me' });
    const messageId = String(ack.messageId);
    await bob.next((f) => f.type === 'message' && f.messageId === messageId);
    await cloud.idle();
    const mine = logs.filter((line) => line.includes(messageId));
    const has = (pattern: RegExp) => mine.some((line) => pattern.test(line));
    // Before the message has its id, SendMessage's debug line carries the request's id, as its later lines do.
    const sent = mine.find((line) => line.includes('message sent')) ?? '';
    const requestId = /"requestId":"([^"]+)"/.exec(sent)?.[1];
    expect(requestId).toBeDefined();
    expect(
      logs.some((line) => / DEBUG .*MessagesFunction: sending /.test(line) && line.includes(`${requestId}`)),
    ).toBe(true);
    expect(has(/DEBUG eventbridge: RoomWake matched rule \w+, target FanoutQueue/)).toBe(true);
    expect(has(/DEBUG FanoutStateMachine: execution succeeded in \d+ ms/)).toBe(true);
    expect(has(/fan-out prepared/)).toBe(true);
    expect(has(/posts delivered/)).toBe(true);
  } finally {
    await alice.close();
    await bob.close();
  }
}, 240_000);
