import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalCloud } from '../../local/cloud';
import { launchChromium } from '../helpers/browser';
import { startTestCloud } from '../helpers/localCloud';

/**
 * A direct message reaches the other person while the page is open (web/myrooms.js, web/dmHeader.js), two people
 * signed in at the local cloud's development issuer: when Ben messages Ana, her "Your rooms" lists the conversation
 * at once with a notice, no reload; his words show as its unread badge; each side's header names the other person,
 * never the room's code, and offers no invite.
 */
jest.setTimeout(120_000);

const UI_TIMEOUT_MS = 20_000;
/** The page asks its rooms again 5 s and 15 s after the notice: Ben's words show as a badge within this. */
const BADGE_WITHIN_MS = 25_000;
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'browser');

let cloud: LocalCloud;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  cloud = (await startTestCloud({ parameters: { AuthMode: 'oidc' } })).cloud;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cloud?.close();
});

async function signedIn(username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(cloud.httpUrl);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === cloud.httpUrl && !url.search.includes('code='));
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  return page;
}

const shownRoom = async (page: Page) =>
  (await page.getByTestId('room-code').getAttribute('data-room-id')) ?? '';

/** Waits until the element shows exactly `text`. */
async function hasText(
  locator: { textContent(options?: { timeout?: number }): Promise<string | null> },
  text: string,
  timeoutMs = UI_TIMEOUT_MS,
) {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = (await locator.textContent({ timeout: 500 }).catch(() => null))?.trim() ?? null;
    if (last === text) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(last).toBe(text);
}

async function say(page: Page, text: string) {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
  // Stored, not the pending copy the page shows at once: what another member's next read must count.
  await page
    .locator('[data-testid="message-list"] [data-testid="message"][data-status="sent"][data-seq]')
    .filter({ hasText: text })
    .first()
    .waitFor();
}

it('ana sees the conversation ben opens with her at once, then his words as its badge, each header naming the other', async () => {
  const ana = await signedIn('ana');
  const ben = await signedIn('ben');
  await ana.getByTestId('create-room-button').click();
  await ana.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const code = await shownRoom(ana);
  await ben.getByTestId('join-input').fill(code);
  await ben.getByTestId('join-button').click();
  await ben.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();

  await ben
    .locator('[data-testid="member-item"][data-username="ana"] [data-testid="member-message"]')
    .click();
  await ben.locator('[data-testid="room-code"][data-room-id]').filter({ hasText: '✉ ana' }).waitFor();
  const dmRoom = await shownRoom(ben);
  expect(dmRoom).toHaveLength(12);
  // His header names Ana, not the code, and offers no invite (nobody else can join).
  await hasText(ben.getByTestId('room-title'), 'ana');
  expect(await ben.getByTestId('invite-code').isVisible()).toBe(false);

  // Ana, without a reload, is told and finds the conversation in her rooms.
  const row = ana.locator(`[data-testid="my-room"][data-room-id="${dmRoom}"]`);
  await row.waitFor();
  await hasText(row.locator('button'), '✉ ben');
  await ana.locator('.toast', { hasText: 'ben opened a direct conversation with you' }).waitFor();

  // His words show as its unread badge, still without a reload.
  await say(ben, 'got a minute?');
  await say(ben, 'about tomorrow');
  await hasText(row.getByTestId('unread-badge'), '2', BADGE_WITHIN_MS);
  await ana.screenshot({ path: join(SCREENSHOTS, 'dm-notice.png') });

  // She opens it: her header names Ben.
  await row.locator('button').click();
  await ana.locator(`[data-testid="room-code"][data-room-id="${dmRoom}"]`).waitFor();
  await hasText(ana.getByTestId('room-title'), 'ben');
  await hasText(ana.getByTestId('room-code'), '✉ ben');
  await ana.locator('[data-testid="message-list"] .msg-text', { hasText: 'about tomorrow' }).waitFor();
});
