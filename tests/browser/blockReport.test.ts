import type { Page } from 'playwright-core';
import { browserStage, hasText, signInByName, UI_TIMEOUT_MS } from '../helpers/browserStage';

/**
 * Blocking and reporting in the web chat (web/safety.js, web/changes.js), in Chromium against the local cloud: Alice
 * blocks Bob from one of his messages and his messages disappear from her view (those he sends after too), while
 * Carol still sees them; Carol reports one of Bob's messages with a reason and Alice, the room's owner, sees the
 * report arrive with the message's text.
 */
jest.setTimeout(120_000);

const stage = browserStage();

async function person(username: string): Promise<Page> {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(page, stage.cloud.httpUrl, username, 'visible');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

const row = (page: Page, text: string) =>
  page
    .locator('[data-testid="message"][data-seq]')
    .filter({ has: page.locator('.msg-text', { hasText: text }) });

async function join(page: Page, code: string): Promise<void> {
  await page.getByTestId('join-input').fill(code);
  await page.getByTestId('join-button').click();
  await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
}

it('alice blocks bob and his messages leave her view; carol reports one and alice, the owner, sees it', async () => {
  const alice = await person('alice-block');
  const bob = await person('bob-block');
  const carol = await person('carol-block');
  await alice.getByTestId('create-room-button').click();
  await alice
    .locator('[data-testid="invite-code"]')
    .filter({ hasText: /^[A-HJ-NP-Z2-9]{8}$/ })
    .waitFor();
  const code = (await alice.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
  await join(bob, code);
  await join(carol, code);

  await send(bob, 'buy cheap watches');
  await row(alice, 'buy cheap watches').waitFor({ timeout: UI_TIMEOUT_MS });
  await row(alice, 'buy cheap watches').hover();
  await row(alice, 'buy cheap watches').getByTestId('block-author').click();
  await row(alice, 'buy cheap watches').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
  await hasText(alice.getByTestId('blocked-count'), '1', UI_TIMEOUT_MS);

  // What Bob sends next never shows for Alice; Carol sees it, and Alice sees Carol.
  await send(bob, 'really cheap watches');
  await row(carol, 'really cheap watches').waitFor({ timeout: UI_TIMEOUT_MS });
  await send(carol, 'carol is here');
  await row(alice, 'carol is here').waitFor({ timeout: UI_TIMEOUT_MS });
  expect(await row(alice, 'really cheap watches').isVisible()).toBe(false);
  expect(await row(alice, 'buy cheap watches').isVisible()).toBe(false);

  // Carol reports one of Bob's messages: Alice, the room's owner, is shown the report with its text.
  await row(carol, 'really cheap watches').hover();
  await row(carol, 'really cheap watches').getByTestId('report-message').click();
  await carol.getByTestId('report-reason').fill('spam');
  await carol.getByTestId('report-send').click();
  const notice = alice.getByTestId('report-notice');
  await notice.waitFor({ timeout: UI_TIMEOUT_MS });
  expect(await notice.textContent()).toContain('really cheap watches');
  expect(await notice.textContent()).toContain('carol-block');
  expect(await notice.textContent()).toContain('spam');
});
