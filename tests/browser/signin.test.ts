import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalCloud } from '../../local/cloud';
import { launchChromium } from '../helpers/browser';
import { startTestCloud } from '../helpers/localCloud';

/**
 * The web page's sign-in (web/signin.js) in Chromium (tests/helpers/browser.ts finds one), against the local cloud
 * with AuthMode=oidc: the page sends the browser to the development issuer, comes back with a code, trades it (PKCE)
 * for a token and connects with it. Without the token the handshake would be refused, so "online" proves the whole
 * flow. The name comes from the token alone: the page never asks for one, shows who is signed in, renders the
 * user's messages as their own, and signs out back to the issuer.
 */
jest.setTimeout(90_000);

const UI_TIMEOUT_MS = 15_000;
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'browser');

let cloud: LocalCloud;
let browser: Browser;

/** The little of the DOM the in-page functions below touch (tsconfig has no "dom" lib: these tests run in Node). */
type DialogCounter = { __nameDialogs?: number };

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  cloud = (await startTestCloud({ parameters: { AuthMode: 'oidc' } })).cloud;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cloud?.close();
});

/** Opens the chat, signs in at the issuer as `username`, and waits until the page is online. */
async function signIn(page: Page, username: string, tokenRequests: string[] = []): Promise<void> {
  page.on('request', (request) => {
    if (request.url().endsWith('/dev-oidc/token') && request.method() === 'POST')
      tokenRequests.push(request.postData() ?? '');
  });
  // Every name prompt the page opens is counted: with a sign-in there must be none.
  await page.addInitScript(() => {
    const g = globalThis as unknown as DialogCounter & {
      HTMLDialogElement: { prototype: { showModal(): void } };
    };
    const showModal = g.HTMLDialogElement.prototype.showModal;
    g.HTMLDialogElement.prototype.showModal = function (this: unknown) {
      g.__nameDialogs = (g.__nameDialogs ?? 0) + 1;
      showModal.call(this);
    };
  });
  await page.goto(cloud.httpUrl);
  // The page has no token: it sends the browser to the issuer's sign-in form.
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  // Back on the chat page, without the code in the address bar, online with the token.
  await page.waitForURL((url) => url.origin === cloud.httpUrl && !url.search.includes('code='));
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
}

/** Waits until no CSS transition or animation runs (the sidebar slides), so a screenshot shows the settled page. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      (globalThis as unknown as { document: { getAnimations(): unknown[] } }).document.getAnimations()
        .length === 0,
  );
}

it('signs in with the code flow and PKCE, never asks for a name, sends as the signed-in user, and signs out', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const tokenRequests: string[] = [];
  await signIn(page, 'zoe', tokenRequests);
  expect(tokenRequests).toHaveLength(1);
  expect(new URLSearchParams(tokenRequests[0]).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);

  // Who is signed in, from the token; no name prompt and no way to type another name.
  expect(await page.getByTestId('me-name').textContent()).toBe('zoe');
  expect(await page.locator('#me-label').textContent()).toBe('Signed in as');
  expect(await page.getByTestId('change-name-button').isVisible()).toBe(false);
  expect(await page.getByTestId('sign-out-button').isVisible()).toBe(true);
  expect(await page.getByTestId('username-dialog').isVisible()).toBe(false);
  expect(await page.evaluate(() => (globalThis as DialogCounter).__nameDialogs ?? 0)).toBe(0);

  // Her message comes back from the server under her token's name and is shown as her own, on the right.
  await page.getByTestId('composer-input').fill('hello, signed in');
  await page.getByTestId('composer-input').press('Enter');
  const own = page.locator('[data-testid="message"][data-seq]').filter({ hasText: 'hello, signed in' });
  await own.waitFor();
  expect(await own.getAttribute('data-username')).toBe('zoe');
  expect(await own.getAttribute('class')).toContain('is-own');
  expect(await own.locator('.msg-author').textContent()).toBe('zoe (you)');
  const list = await page.getByTestId('message-list').boundingBox();
  const bubble = await own.locator('.msg-bubble').boundingBox();
  if (!list || !bubble) throw new Error('no layout');
  expect(bubble.x).toBeGreaterThan(list.x + list.width / 2); // on the own side
  expect(list.x + list.width - (bubble.x + bubble.width)).toBeLessThan(80);
  await page.screenshot({ path: join(SCREENSHOTS, 'signed-in-1280x800.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await settled(page);
  await page.screenshot({ path: join(SCREENSHOTS, 'signed-in-390x844.png') });
  // On a phone the room panel holds who is signed in and the sign-out.
  await page.getByTestId('sidebar-toggle').click();
  await settled(page);
  expect(await page.getByTestId('me-name').isVisible()).toBe(true);
  await page.screenshot({ path: join(SCREENSHOTS, 'signed-in-390x844-panel.png') });

  // Signing out forgets the token: the page goes back to the issuer and asks to sign in again.
  await page.getByTestId('sign-out-button').click();
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').waitFor();
  await context.close();
});
