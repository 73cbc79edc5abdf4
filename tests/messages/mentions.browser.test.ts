import type { DevIssuer } from '../../tools/local/oidc';
import {
  browserStage,
  createRoom,
  hasText,
  shownRoom,
  signedInAtIssuer,
  signedInRoom,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Mentions in the web chat (web/mentions.js, web/notify.js), people signed in at the local cloud's development
 * issuer: Ana reads room A in the browser while her phone is in room B; Ben names her there. Her page says so at
 * once, marks room B "@" under "Your rooms", and with the tab hidden shows a browser notification; opening room B
 * shows the message highlighted, and the mark is gone. A named room's notification names it ("#Night owls"), and a
 * click on it opens that room. The pages are 1280×800 (signedInAtIssuer).
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

it('a mention in a named room is notified as "#name", and a click on the notification opens that room', async () => {
  const cleo = await signedInAtIssuer(stage, 'cleo');
  const roomA = await createRoom(cleo);
  const cleoPhone = await device('cleo');
  const danPhone = await device('dan');
  try {
    const owls = await danPhone.expectReply({ action: 'createroom', name: 'Night owls' });
    await cleoPhone.expectReply({ action: 'joinroom', roomId: owls.roomId, key: owls.inviteKey });

    // The tab goes to the background, with notifications allowed: each notification the page shows is kept, and a
    // click on one runs what the page asked a click to do, as the browser does.
    await cleo.evaluate(() => {
      type Shown = { title: string; body: string; clicks: Array<() => void> };
      const page = globalThis as unknown as { notices: Shown[]; Notification: unknown; document: object };
      page.notices = [];
      Object.defineProperty(page.document, 'hidden', { configurable: true, get: () => true });
      page.Notification = class {
        static permission = 'granted';
        readonly shown: Shown;
        constructor(title: string, options?: { body?: string }) {
          this.shown = { title, body: options?.body ?? '', clicks: [] };
          page.notices.push(this.shown);
        }
        addEventListener(type: string, listener: () => void) {
          if (type === 'click') this.shown.clicks.push(listener);
        }
        close() {}
      };
    });
    await danPhone.expectReply({ action: 'sendmessage', message: '@cleo the night walk starts at ten' });

    const title = 'dan mentioned you in #Night owls';
    const notice = cleo.locator('.toast', { hasText: 'the night walk starts at ten' });
    await notice.waitFor();
    const shown = await cleo.evaluate(() =>
      (globalThis as unknown as { notices: Array<{ title: string; body: string }> }).notices.map(
        ({ title, body }) => ({ title, body }),
      ),
    );
    expect(shown).toEqual([{ title, body: '@cleo the night walk starts at ten' }]);
    expect(await notice.locator('.toast-title').textContent()).toBe(title);
    expect(await shownRoom(cleo)).toBe(roomA);

    // She clicks the notification: the tab comes forward on the room it names.
    await cleo.evaluate(() => {
      const page = globalThis as unknown as {
        notices: Array<{ clicks: Array<() => void> }>;
        document: object;
      };
      Object.defineProperty(page.document, 'hidden', { configurable: true, get: () => false });
      for (const click of page.notices[0]?.clicks ?? []) click();
    });
    await cleo.locator(`[data-testid="room-code"][data-room-id="${owls.roomId}"]`).waitFor();
    await hasText(cleo.getByTestId('room-title'), '# Night owls');
    await cleo.locator('[data-testid="message"]', { hasText: 'the night walk starts at ten' }).waitFor();
  } finally {
    await Promise.all([cleoPhone.close(), danPhone.close()]);
  }
});
