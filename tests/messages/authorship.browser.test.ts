import { browserStage, say, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Authorship by identity in the web chat (web/state.js isOwn): a person who takes the name of someone who left sees
 * that person's messages as someone else's (no "(you)", no Edit or Delete), and their own as theirs.
 */
jest.setTimeout(240_000);

const stage = browserStage();

it("shows the first sam's messages as someone else's to the second sam, and the second's own as theirs", async () => {
  const olga = await ChatClient.connect(stage.cloud.wsUrl, 'olga');
  try {
    const roomId = String((await olga.expectReply({ action: 'createroom' })).roomId);
    const first = await ChatClient.connect(stage.cloud.wsUrl, 'sam');
    await first.expectReply({ action: 'joinroom', roomId });
    await first.expectReply({ action: 'sendmessage', message: 'from the first sam' });
    await first.close();
    // The name is free once the first sam's $disconnect has run.
    for (let tries = 0; tries < 100; tries++) {
      const who = await olga.expectReply({ action: 'who' });
      if (!(who.members as string[]).includes('sam')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const page = await stage.newPage({ width: 1100, height: 760 });
    await signInByName(page, stage.cloud.httpUrl, 'sam', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const old = page.locator('[data-testid="message"][data-seq]', { hasText: 'from the first sam' });
    await old.waitFor();
    expect(await old.getAttribute('data-username')).toBe('sam');
    expect(await old.evaluate((row) => row.classList.contains('is-own'))).toBe(false);
    await old.hover();
    expect(await old.getByTestId('edit-message').count()).toBe(0);

    await say(page, 'from the second sam');
    const mine = page.locator('[data-testid="message"][data-seq]', { hasText: 'from the second sam' });
    expect(await mine.evaluate((row) => row.classList.contains('is-own'))).toBe(true);
    await mine.hover();
    await mine.getByTestId('edit-message').waitFor();
  } finally {
    await olga.close();
  }
});
