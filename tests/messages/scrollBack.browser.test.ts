import { browserStage, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Scroll-back in the web chat (web/scrollBack.js): a room of 200 messages opens on its latest 50; each scroll to the
 * top loads an older page above, keeping the view, until the list says where the room starts.
 */
jest.setTimeout(240_000);

const MESSAGES = 200;

const stage = browserStage(undefined, { SendRateLimit: '1000', FrameRateLimit: '100000' });

it('loads older messages as the member scrolls up, and shows the start of the room', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    for (let i = 1; i <= MESSAGES; i++)
      await ana.expectReply({ action: 'sendmessage', message: `line ${i}` });

    const page = await stage.newPage({ width: 1100, height: 760 });
    await signInByName(page, stage.cloud.httpUrl, 'ben', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const rows = page.locator('[data-testid="message"][data-seq]');
    await rows.filter({ hasText: `line ${MESSAGES}` }).waitFor();
    expect(await rows.count()).toBe(50);
    expect(await page.getByTestId('room-start').count()).toBe(0);

    // Each scroll to the top brings the next 50 older ones above (from 101, 51, then 1), until the room's start.
    for (const oldest of [101, 51, 1]) {
      await page.locator('#messages-scroll').evaluate((scroll) => scroll.scrollTo({ top: 0 }));
      await page.locator(`[data-testid="message"][data-seq="${oldest}"]`).waitFor();
    }
    await page.getByTestId('room-start').waitFor();
    const seqs = await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
  } finally {
    await ana.close();
  }
});
