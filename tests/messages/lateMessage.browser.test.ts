import type { Page, WebSocketRoute } from 'playwright-core';
import { browserStage, joinRoom, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * A message stored after later ones reaches the page after the client skipped its hole (the client marks it
 * `late`): the web chat puts it in its place by seq, not at the bottom, shows it once however often it comes, and
 * counts it once in the tab's unread count.
 */
jest.setTimeout(240_000);

const stage = browserStage();

type Frame = Record<string, unknown>;

const parsed = (message: string | Buffer): Frame | undefined => {
  try {
    return JSON.parse(String(message)) as Frame;
  } catch {
    return undefined;
  }
};

const seqsOnPage = (page: Page) =>
  page
    .locator('[data-testid="message"][data-seq]')
    .evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-seq'))));

it('puts a late message in its place by seq, once, and counts it once as unread', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    const page = await stage.newPage({ width: 1100, height: 760 });

    // Between the server and the page, seq 3 of the room is held back (live, in batches and in every history read),
    // as a message whose store took longer than the client's wait for its hole.
    let held: Frame | undefined;
    const isThree = (m: unknown) => (m as Frame)?.roomId === roomId && (m as Frame)?.seq === 3;
    let toPage: WebSocketRoute | undefined;
    await page.routeWebSocket(/.*/, (ws) => {
      toPage = ws;
      const server = ws.connectToServer();
      ws.onMessage((message) => server.send(message));
      server.onMessage((message) => {
        const frame = parsed(message);
        if (!frame) return ws.send(message);
        if (frame.type === 'message' && isThree(frame)) {
          held = frame;
          return;
        }
        for (const key of ['messages', 'history', 'events'])
          if (Array.isArray(frame[key])) {
            held ??= (frame[key] as Frame[]).find(isThree);
            frame[key] = (frame[key] as Frame[]).filter((m) => !isThree(m));
          }
        ws.send(JSON.stringify(frame));
      });
    });
    await signInByName(page, stage.cloud.httpUrl, 'ben', 'visible');
    await joinRoom(page, roomId);

    for (const text of ['one', 'two', 'three', 'four'])
      await ana.expectReply({ action: 'sendmessage', message: text });
    // The hole is skipped after its wait: 4 is shown under 2.
    await page.locator('[data-testid="message"][data-seq="4"]').waitFor();
    expect(await seqsOnPage(page)).toEqual([1, 2, 4]);
    expect(held).toMatchObject({ seq: 3, text: 'three' });

    // The reader is in another tab when 3 is stored at last and posted, twice (a fan-out execution received again).
    await page.evaluate(`(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    })()`);
    const title = await page.title();
    expect(title.startsWith('(')).toBe(false); // nothing unread yet
    toPage?.send(JSON.stringify(held));
    toPage?.send(JSON.stringify(held));
    // A message sent after, through the server: once it is shown, both copies before it were taken.
    await ana.expectReply({ action: 'sendmessage', message: 'five' });
    await page.locator('[data-testid="message"][data-seq="5"]').waitFor();
    expect(await seqsOnPage(page)).toEqual([1, 2, 3, 4, 5]);
    expect(await page.locator('[data-testid="message"]').nth(2).locator('.msg-text').textContent()).toBe(
      'three',
    );
    expect(await page.title()).toBe(`(2) ${title}`); // 3 and 5, each once
  } finally {
    await ana.close();
  }
});
