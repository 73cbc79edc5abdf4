import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from '../helpers/chatClient';
import { DeliveryChecker } from '../helpers/deliveryChecker';
import { startTestCloud } from '../helpers/localCloud';
import { closeAll, recordFigures, sendWithRetry } from './world';

/** Alice's app keeps its resume token across the restart, as the web page keeps a tab's: her sends keep one scope. */
const ALICE_RESUME = 'alice-keeps-this-token';

/** The local cloud restarted on the same --data-dir: rooms and history survive; clients reconnect and resume. */
jest.setTimeout(240_000);

const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('after a restart with the same data dir, members rejoin their room and resume from history', async () => {
  const first = await startTestCloud({ dataDir });
  const [alice, bob] = [
    await ChatClient.connect(first.cloud.wsUrl, 'alice', undefined, { resumeToken: ALICE_RESUME }),
    await ChatClient.connect(first.cloud.wsUrl, 'bob'),
  ];
  const roomId = String((await alice.expectReply({ action: 'createroom' })).roomId);
  await bob.expectReply({ action: 'joinroom', roomId });
  for (let i = 1; i <= 5; i++) await sendWithRetry(alice, `before ${i}`, `b-${i}`);
  await first.settle();
  const bobSeen = Math.max(...bob.seqs(roomId));
  expect(bobSeen).toBe(5);
  await closeAll([alice, bob]);
  await first.cloud.close();

  const second = await startTestCloud({ dataDir });
  try {
    const checker = new DeliveryChecker();
    const alice2 = await ChatClient.connect(second.cloud.wsUrl, 'alice', undefined, {
      resumeToken: ALICE_RESUME,
    });
    const bob2 = await ChatClient.connect(second.cloud.wsUrl, 'bob');
    const joined = await alice2.expectReply({ action: 'joinroom', roomId });
    expect(joined.lastSeq).toBe(5);
    expect((joined.history as { text: string }[]).map((m) => m.text)).toEqual(
      [1, 2, 3, 4, 5].map((i) => `before ${i}`),
    );
    const bobJoined = await bob2.expectReply({ action: 'joinroom', roomId });
    checker.member(alice2, joined);
    checker.member(bob2, bobJoined);
    // Bob resumes where he was: history after his last seq is empty, then new messages continue the seq.
    expect((await bob2.expectReply({ action: 'history', afterSeq: bobSeen })).messages).toEqual([]);
    // A retry of a pre-restart send is still recognised: same seq, no new message. It publishes the stored message
    // again (a retry cannot know whether its first attempt's PutEvents went through), which the restarted fan-out
    // queue no longer deduplicates: members may get seq 5 once more, the same message, and drop it (they hold it).
    const again = await sendWithRetry(alice2, 'before 5', 'b-5');
    expect(again.ack.seq).toBe(5);
    expect(again.ack.messageId).toBe((bobJoined.history as { messageId: string }[]).at(-1)?.messageId);
    for (let i = 1; i <= 3; i++) checker.sent((await sendWithRetry(alice2, `after ${i}`, `a-${i}`)).ack);
    await second.settle();
    await checker.fillGaps();
    const report = checker.report();
    recordFigures('restart with data dir', {
      messagesBefore: 5,
      messagesAfter: 3,
      seqAfterRestart: [6, 7, 8],
      deliveries: report.deliveries,
      lost: report.lost,
      duplicated: report.duplicated,
    });
    expect(bob2.seqs(roomId).filter((seq) => seq > bobSeen)).toEqual([6, 7, 8]);
    for (const repeat of bob2.messages(roomId).filter((m) => m.seq === 5))
      expect(repeat.messageId).toBe(again.ack.messageId);
    expect(report.problems).toEqual([]);
    await closeAll([alice2, bob2]);
  } finally {
    await second.cloud.close();
  }
});
