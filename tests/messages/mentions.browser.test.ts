import type { DevIssuer } from '../../tools/local/oidc';
import { browserStage, signedInRoom, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Mentions in the web chat (web/mentions.js, web/notify.js), people signed in at the local cloud's development
 * issuer: Ana reads room A in the browser while her phone is in room B; Ben names her there. Her page says so at
 * once, marks room B "@" under "Your rooms", and with the tab hidden shows a browser notification; opening room B
 * shows the message highlighted, and the mark is gone.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** Another device of `name`: a token the development issuer mints for that name, as for the page's own sign-in. */
async function device(name: string): Promise<ChatClient> {
  const { idToken } = await (stage.cloud.devIssuer as DevIssuer).mint(name);
  return ChatClient.connect(`${stage.cloud.wsUrl}?token=${encodeURIComponent(idToken)}`);
}

it('a mention in room B reaches ana while she reads room A: notice, "@" on the room, notification, highlight', async () => {
  const { owner: ana } = await signedInRoom(stage, ['ana', 'ben'], UI_TIMEOUT_MS);
  const anaPhone = await device('ana');
  const benPhone = await device('ben');
  try {
    const roomB = await benPhone.expectReply({ action: 'createroom' });
    await anaPhone.expectReply({ action: 'joinroom', roomId: roomB.roomId, key: roomB.inviteKey });

    // The tab goes to the background, with notifications allowed: what the page shows is recorded.
    await ana.evaluate(() => {
      // Runs in the page: its window and document, typed here only as far as this needs.
      const page = globalThis as unknown as {
        shown: string[];
        Notification: unknown;
        document: object;
      };
      page.shown = [];
      Object.defineProperty(page.document, 'hidden', { configurable: true, get: () => true });
      page.Notification = class {
        static permission = 'granted';
        constructor(title: string) {
          page.shown.push(title);
        }
        addEventListener() {}
      };
    });
    await benPhone.expectReply({ action: 'sendmessage', message: '@ana are you coming tonight?' });

    const title = `ben mentioned you in room ${roomB.roomId}`;
    await ana.locator('.toast', { hasText: 'are you coming tonight?' }).waitFor();
    await ana.locator('.toast', { hasText: title }).waitFor();
    expect(await ana.evaluate(() => (globalThis as unknown as { shown: string[] }).shown)).toEqual([title]);
    const row = ana.locator(`[data-testid="my-room"][data-room-id="${roomB.roomId}"]`);
    await row.getByTestId('mention-badge').waitFor();

    // Back in front, she opens room B: the message that names her stands out, and the mark is gone.
    await ana.evaluate(() => {
      const page = globalThis as unknown as { document: object };
      Object.defineProperty(page.document, 'hidden', { configurable: true, get: () => false });
    });
    await row.locator('button').first().click();
    await ana.locator(`[data-testid="room-code"][data-room-id="${roomB.roomId}"]`).waitFor();
    const message = ana.locator('[data-testid="message"]', { hasText: 'are you coming tonight?' });
    expect(await message.getAttribute('data-mentions-me')).toBe('true');
    await ana.getByTestId('mention-badge').waitFor({ state: 'detached' });
  } finally {
    await Promise.all([anaPhone.close(), benPhone.close()]);
  }
});
