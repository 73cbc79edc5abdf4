import type { Page } from 'playwright-core';
import { browserStage, hasText, linksIn, roomOfTwo, say, send, signInByName } from '../helpers/browserStage';

/** Sends `text` from the composer as typed (its row shows it drawn, so `say`'s wait for the text as sent is no use). */
/**
 * Formatting and typing aids in the open-mode web chat (web/format.js, web/compose.js), two people in Chromium
 * against the local cloud: Markdown's chat subset is drawn, and nothing the sender writes becomes markup of its own
 * (`<img onerror>` is text, a javascript: link is not a link); `:rocket:` becomes 🚀 as it is typed; `@` offers
 * the room's members; ↑ in an empty composer edits your last message. And a mention in a room the reader follows but
 * does not show raises a notice in open mode too (web/mentions.js).
 */
jest.setTimeout(240_000);

const stage = browserStage();

async function person(name: string): Promise<Page> {
  const page = await stage.newPage({ width: 1280, height: 800 });
  await signInByName(page, stage.cloud.httpUrl, name);
  return page;
}

/** The stored message row with this text on `page`. */
const row = (page: Page, text: string) =>
  page.locator('[data-testid="message"][data-seq]').filter({ hasText: text }).first();

it('draws bold, code, quotes, lists and safe links, and the sender’s HTML as text', async () => {
  const ana = await person('ana');
  const ben = await person('ben');
  const alerts: string[] = [];
  ben.on('dialog', (d) => {
    alerts.push(d.message());
    void d.dismiss();
  });
  await roomOfTwo(ana, ben);

  await send(ana, '**bold** and *soft* and `code` <img src=x onerror=alert(1)>');
  const first = row(ben, 'bold and soft');
  await first.waitFor();
  await hasText(first.locator('.msg-text strong'), 'bold');
  await hasText(first.locator('.msg-text em'), 'soft');
  await hasText(first.locator('.msg-text code'), 'code');
  // The sender's tag is text, as typed: no image, nothing run.
  expect(await ben.locator('[data-testid="message-list"] img').count()).toBe(0);
  expect(await first.locator('.msg-text').textContent()).toBe(
    'bold and soft and code <img src=x onerror=alert(1)>',
  );

  await send(
    ana,
    '> quoted\n\n- one\n- two\n\n[site](https://example.com/a) [bad](javascript:alert(2)) [call](tel:555) mailto:ana@example.com',
  );
  const second = row(ben, 'quoted');
  await second.waitFor();
  await hasText(second.locator('blockquote'), 'quoted');
  expect(await second.locator('ul > li').allTextContents()).toEqual(['one', 'two']);
  const links = await linksIn(second);
  expect(links).toEqual([
    { text: 'site', href: 'https://example.com/a', rel: 'noopener noreferrer', target: '_blank' },
    {
      text: 'mailto:ana@example.com',
      href: 'mailto:ana@example.com',
      rel: 'noopener noreferrer',
      target: '_blank',
    },
  ]);
  // Links to other schemes stay the text they were typed as.
  expect(await second.textContent()).toContain('[bad](javascript:alert(2)) [call](tel:555)');
  expect(alerts).toEqual([]);
});

it('shows a message of one to three emoji alone large, and emoji within words at the text’s size', async () => {
  const cal = await person('cal');
  const dee = await person('dee');
  await roomOfTwo(cal, dee);
  // A message's text exactly (every row's reaction buttons hold a 🎉 of their own).
  const textOf = (text: string) =>
    dee.locator('[data-testid="message"][data-seq] .msg-text').filter({ hasText: new RegExp(`^${text}$`) });
  const fontSize = (text: string) =>
    textOf(text)
      .first()
      .evaluate((el) =>
        Number.parseFloat(
          (globalThis as unknown as { getComputedStyle(e: unknown): { fontSize: string } }).getComputedStyle(
            el,
          ).fontSize,
        ),
      );
  for (const text of ['plain words', '🎉', '👍🏽 🇫🇷 👨‍👩‍👧', 'nice 🎉', '🎉🎉🎉🎉']) await say(cal, text);
  await textOf('🎉🎉🎉🎉').waitFor();
  const plain = await fontSize('plain words');
  // Large: one emoji, and three (a skin tone, a flag and a family each one emoji).
  expect(await fontSize('🎉')).toBeGreaterThan(plain * 1.5);
  expect(await fontSize('👍🏽 🇫🇷 👨‍👩‍👧')).toBeGreaterThan(plain * 1.5);
  // Text with an emoji, and more than three, stay the size of text.
  expect(await fontSize('nice 🎉')).toBe(plain);
  expect(await fontSize('🎉🎉🎉🎉')).toBe(plain);
});

it('turns :rocket: into 🚀, offers members after @, and edits the last message on ↑', async () => {
  const ana = await person('ana');
  const ben = await person('ben');
  await roomOfTwo(ana, ben);
  const composer = ana.getByTestId('composer-input');

  await composer.pressSequentially('ship it :rocket:');
  await ana.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { querySelector(s: string): { value: string } } }
      ).document.querySelector('[data-testid="composer-input"]').value === 'ship it 🚀',
  );
  await composer.press('Enter');
  await row(ben, 'ship it 🚀').waitFor();

  // `@` and the start of a name: the room's members who match, and Enter puts the name in.
  await ana.locator('[data-testid="member-item"][data-username="ben"]').waitFor();
  await composer.pressSequentially('thanks @b');
  await hasText(ana.getByTestId('mention-option'), '@ben');
  await composer.press('Enter');
  expect(await composer.inputValue()).toBe('thanks @ben ');
  await composer.pressSequentially('for the review');
  await composer.press('Enter');
  const thanks = row(ben, 'thanks @ben for the review');
  await thanks.waitFor();
  expect(await thanks.getAttribute('data-mentions-me')).toBe('true');

  // ↑ in the empty composer: the editor of her last message, which Enter saves.
  await composer.press('ArrowUp');
  const editor = ana.getByTestId('edit-input');
  expect(await editor.inputValue()).toBe('thanks @ben for the review');
  await editor.fill('thanks @ben, reviewed');
  await editor.press('Enter');
  // A message that follows its author's last one within minutes shows no heading: the mark is there, unseen.
  await row(ben, 'thanks @ben, reviewed').getByTestId('edited-mark').waitFor({ state: 'attached' });
});

it('a mention in a room ben follows but does not show gives him a notice and "@", without sign-in', async () => {
  const ana = await person('ana');
  const ben = await person('ben');
  const roomA = await roomOfTwo(ana, ben);
  // Ben moves on to a room of his own; room A stays his, followed, under "Your rooms".
  await ben.getByTestId('create-room-button').click();
  await ben
    .locator(
      `[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"]):not([data-room-id="${roomA}"])`,
    )
    .waitFor();
  const roomARow = ben.locator(`[data-testid="my-room"][data-room-id="${roomA}"]`);
  await roomARow.waitFor();

  await say(ana, '@ben your turn');
  await ben.locator('[data-testid="toast"]', { hasText: `ana mentioned you in room ${roomA}` }).waitFor();
  await roomARow.getByTestId('mention-badge').waitFor();
  await hasText(roomARow.getByTestId('unread-badge'), '1');
});
