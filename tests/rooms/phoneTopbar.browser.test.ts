import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { browserStage, hasText, messageRow, person, SCREENSHOTS, say } from '../helpers/browserStage';
import { fits } from '../helpers/fitsWindow';

/**
 * The room's top bar on a phone (390×844), for the room's owner, who has the most in it: the room's name stays in
 * view (cut with an ellipsis when long), the page is no wider than the window, and each of the owner's tools (pins,
 * reports, moderation, search) is reached through the bar's "⋯" menu and opens its panel, the menu closing as it
 * does. On a laptop's window (1280×800) the same page shows the tools in the bar itself and no "⋯".
 */
jest.setTimeout(240_000);

const stage = browserStage();
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };
const ROOM_NAME = 'Weekend hikes and trail reports';

/** Opens the bar's "⋯" menu (closed) and picks tool `testid`: its panel `panel` shows, and the menu closes. */
async function useTool(page: Page, testid: string, panel: string): Promise<void> {
  const tools = page.getByTestId('topbar-tools');
  await page.getByTestId('topbar-more').click();
  await tools.waitFor();
  const tool = page.getByTestId(testid);
  expect(await fits(tool, PHONE.width)).toBe(true);
  await tool.click();
  await page.getByTestId(panel).waitFor();
  await tools.waitFor({ state: 'hidden' });
  expect(await page.getByTestId('topbar-more').getAttribute('aria-expanded')).toBe('false');
}

it("at 390×844 the owner's bar keeps the room's name in view, fits the window, and reaches every tool", async () => {
  const owner = await person(stage, 'olive-bar', { viewport: PHONE, lobby: 'attached' });
  // A phone's room panel is a drawer opened from the bar; it closes on entering the new room.
  await owner.getByTestId('sidebar-toggle').click();
  await owner.getByTestId('new-room-name').fill(ROOM_NAME);
  await owner.getByTestId('create-room-button').click();
  await owner
    .locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"]):not([data-room-id=""])')
    .waitFor({ state: 'attached' });
  await hasText(owner.getByTestId('room-title'), `# ${ROOM_NAME}`);
  // The owner pins a message: the pins tool shows too.
  await say(owner, 'trail map is pinned');
  await messageRow(owner, 'trail map is pinned').hover();
  await messageRow(owner, 'trail map is pinned').getByTestId('pin-message').click();
  await hasText(owner.getByTestId('pins-count'), '1');
  // The owner's tools are offered once the page knows its staff.
  for (const tool of ['reports-button', 'modlog-button'])
    await owner.locator(`[data-testid="${tool}"]:not([hidden])`).waitFor({ state: 'attached' });

  // The name: shown, inside the window (cut with an ellipsis: the whole name is wider than the room left for it).
  const title = owner.getByTestId('room-title');
  expect(await fits(title, PHONE.width)).toBe(true);
  expect(await fits(owner.getByTestId('topbar-more'), PHONE.width)).toBe(true);
  expect(await fits(owner.getByTestId('connection-status'), PHONE.width)).toBe(true);
  await owner.screenshot({ path: join(SCREENSHOTS, 'topbar-phone.png') });

  await useTool(owner, 'pins-button', 'pins-panel');
  await useTool(owner, 'reports-button', 'reports-panel');
  await useTool(owner, 'modlog-button', 'modlog-panel');
  await owner.getByTestId('modlog-panel').getByTestId('modlog-entries').waitFor({ state: 'attached' });
  await useTool(owner, 'search-button', 'search-panel');
  // With every panel open, the name is still in view and the page no wider than the window.
  expect(await fits(title, PHONE.width)).toBe(true);
  await owner.getByTestId('topbar-more').click();
  await owner.screenshot({ path: join(SCREENSHOTS, 'topbar-phone-menu.png') });
  // A click outside the menu closes it.
  await title.click();
  await owner.getByTestId('topbar-tools').waitFor({ state: 'hidden' });

  // On a laptop's window the tools are in the bar itself, beside the name, with no "⋯".
  await owner.setViewportSize(LAPTOP);
  await owner.getByTestId('topbar-more').waitFor({ state: 'hidden' });
  for (const tool of ['pins-button', 'reports-button', 'modlog-button', 'search-button'])
    expect(await fits(owner.getByTestId(tool), LAPTOP.width)).toBe(true);
  expect(await fits(title, LAPTOP.width)).toBe(true);
});
