import { browserStage, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Replies in the web chat (web/replies.js): Reply under a message, type, send; the other member sees the reply with
 * the original quoted; a click on the quote jumps to the original, loading older pages when it is not on screen; a
 * deleted original shows as deleted in the quote.
 */
jest.setTimeout(240_000);

const stage = browserStage(undefined, { SendRateLimit: '1000', FrameRateLimit: '100000' });

it('a reply shows its original quoted, jumps to it across pages, and shows it deleted once it is', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    const original = await ana.expectReply({ action: 'sendmessage', message: 'Who brings the cake?' });
    // Enough after it that the original is off the first page the web chat shows (the latest 50).
    for (let i = 1; i <= 60; i++) await ana.expectReply({ action: 'sendmessage', message: `line ${i}` });

    const page = await stage.newPage({ width: 1100, height: 760 });
    await signInByName(page, stage.cloud.httpUrl, 'ben', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const rows = page.locator('[data-testid="message"][data-seq]');
    const last = rows.filter({ hasText: 'line 60' });
    await last.waitFor();

    // Ben replies to the newest line with the Reply button; Ana gets it with the quote.
    await last.hover();
    await last.getByTestId('reply-message').click();
    await page.getByTestId('reply-bar').waitFor();
    expect(await page.getByTestId('reply-bar-name').textContent()).toBe('ana');
    await page.getByTestId('composer-input').fill('me!');
    await page.getByTestId('composer-input').press('Enter');
    const live = await ana.next((f) => f.type === 'message' && f.text === 'me!');
    expect(live.replyTo).toMatchObject({ seq: Number(original.seq) + 60, username: 'ana' });
    expect(await page.getByTestId('reply-bar').isHidden()).toBe(true);
    const reply = rows.filter({ hasText: 'me!' });
    await reply.getByTestId('reply-quote').filter({ hasText: 'line 60' }).waitFor();

    // Ana replies to the first message, which is not on Ben's screen: the quote says what it said (history would
    // too), and a click loads older pages until the original is shown and highlighted.
    await ana.expectReply({ action: 'sendmessage', message: 'I do', replyTo: original.seq });
    const answer = rows.filter({ hasText: 'I do' });
    await answer.waitFor();
    await page.reload();
    await answer.getByTestId('reply-quote').filter({ hasText: 'Who brings the cake?' }).waitFor();
    await answer.getByTestId('reply-quote').click();
    const target = page.locator(`[data-testid="message"][data-seq="${original.seq}"]`);
    await target.waitFor();
    await page.waitForSelector(`[data-seq="${original.seq}"].is-jump-target`);
    expect(await target.isVisible()).toBe(true);

    // Ana deletes the original: the quote on Ben's screen says so, and no longer shows its text.
    await ana.expectReply({ action: 'deletemessage', seq: original.seq });
    const quote = answer.getByTestId('reply-quote');
    await quote.filter({ hasText: 'Original message deleted' }).waitFor();
    expect(await quote.textContent()).not.toContain('cake');
  } finally {
    await ana.close();
  }
});
