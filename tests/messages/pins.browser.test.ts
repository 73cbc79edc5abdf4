import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  joinRoom,
  linksIn,
  peopleInRoom,
  person,
  messageRow as row,
  SCREENSHOTS,
  send,
} from '../helpers/browserStage';

/**
 * Pinned messages in the web chat (web/pins.js, web/changes.js), in Chromium against the local cloud: the room's
 * owner pins a message from its actions, both people see it marked and listed in the pins panel of the room's header,
 * one who joins later finds it there too, the other member is offered no Pin, and a delete takes it out of the list.
 * A pin reads as its message does: its Markdown drawn (bold, a link), the sender's HTML and a javascript: link inert.
 * Each person reads in a 1280×800 window.
 */
jest.setTimeout(240_000);

const stage = browserStage();
/** The window a desktop member reads in. */
const DESKTOP = { viewport: { width: 1280, height: 800 } };

/** Opens the pins panel from the room's header and returns its list. */
async function pinsList(page: Page) {
  const button = page.getByTestId('pins-button');
  await button.waitFor();
  if (!(await page.getByTestId('pins-panel').isVisible())) await button.click();
  await page.getByTestId('pins-panel').waitFor();
  return page.getByTestId('pins-list');
}

it('the owner pins a message: both see it in the pins list, a newcomer too, and a delete unpins it', async () => {
  const {
    pages: [alice, bob],
    code,
  } = await peopleInRoom(stage, ['alice-pins', 'bob-pins'], DESKTOP);

  await send(bob, 'standup moves to 9:30');
  await row(alice, 'standup moves to 9:30').waitFor();
  expect(await alice.getByTestId('pins-button').isVisible()).toBe(false);
  // Only the room's owner is offered Pin.
  await row(bob, 'standup moves to 9:30').hover();
  expect(await row(bob, 'standup moves to 9:30').getByTestId('pin-message').count()).toBe(0);

  await row(alice, 'standup moves to 9:30').hover();
  await row(alice, 'standup moves to 9:30').getByTestId('pin-message').click();
  for (const page of [alice, bob]) {
    await row(page, 'standup moves to 9:30').getByTestId('pinned-mark').waitFor();
    await hasText(page.getByTestId('pins-count'), '1');
    const list = await pinsList(page);
    const item = list.getByTestId('pin-item');
    await hasText(item.locator('.pin-text'), 'standup moves to 9:30');
    expect(await item.textContent()).toContain('pinned by alice-pins');
  }

  // One who joins later finds the pin in the room's header.
  const carol = await person(stage, 'carol-pins', DESKTOP);
  await joinRoom(carol, code);
  await hasText(carol.getByTestId('pins-count'), '1');
  await hasText((await pinsList(carol)).locator('.pin-text'), 'standup moves to 9:30');

  // Bob deletes his message: it leaves everyone's pins.
  const del = row(bob, 'standup moves to 9:30').getByTestId('delete-message');
  await row(bob, 'standup moves to 9:30').hover();
  await del.click();
  await del.click();
  for (const page of [alice, bob, carol]) await page.getByTestId('pins-button').waitFor({ state: 'hidden' });
});

it('a pin reads as its message: bold and a link drawn, HTML and javascript: inert, a click shows it', async () => {
  const {
    pages: [alice, bob],
  } = await peopleInRoom(stage, ['alice-pinmd', 'bob-pinmd'], DESKTOP);
  const alerts: string[] = [];
  for (const page of [alice, bob])
    page.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });

  await send(
    bob,
    'the **standup** notes: [the wiki](https://example.com/wiki) <script>alert(1)</script> [bad](javascript:alert(2))',
  );
  const message = row(alice, 'standup notes');
  await message.waitFor();
  await message.hover();
  await message.getByTestId('pin-message').click();

  for (const page of [alice, bob]) {
    const item = (await pinsList(page)).getByTestId('pin-item');
    const text = item.locator('.pin-text');
    await hasText(text, 'the standup notes: the wiki <script>alert(1)</script> [bad](javascript:alert(2))');
    await hasText(text.locator('strong'), 'standup');
    const links = await linksIn(text);
    expect(links).toEqual([
      { text: 'the wiki', href: 'https://example.com/wiki', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    expect(await page.getByTestId('pins-list').locator('script, b, img').count()).toBe(0);
    // The sender's name heads it, as in the room, and who pinned it.
    expect(await item.locator('.pin-meta .msg-author').textContent()).toBe('bob-pinmd');
    expect(await item.locator('.pin-meta').textContent()).toContain('pinned by alice-pinmd');
  }
  expect(alerts).toEqual([]);
  await bob.screenshot({ path: join(SCREENSHOTS, 'pin-markdown.png') });

  // A click on its text (not on the link) shows the message, scrolled out of view by a tall one after it.
  await send(alice, Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n'));
  await row(alice, 'line 59').waitFor();
  await untilInView(alice, message, false);
  await alice.getByTestId('pins-list').locator('.pin-text strong').click();
  await untilInView(alice, message, true);
});

type Box = { top: number; bottom: number };
type Boxed = { getBoundingClientRect(): Box; closest(selector: string): Boxed | null };

/** Waits (the page's default bound) until `locator`'s element is, or is not, wholly inside the message list's view. */
async function untilInView(page: Page, locator: ReturnType<typeof row>, shown: boolean) {
  const element = await locator.elementHandle();
  await page.waitForFunction(
    ([el, want]) => {
      const node = el as unknown as Boxed;
      const view = node.closest('.messages-scroll')?.getBoundingClientRect();
      const box = node.getBoundingClientRect();
      return (view !== undefined && box.top >= view.top && box.bottom <= view.bottom) === want;
    },
    [element, shown] as const,
  );
}
