import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LocalCloud } from '../../tools/local/cloud';
import { launchChromium } from '../helpers/browser';
import { startTestCloud } from '../helpers/localCloud';

/**
 * The web page's sign-in (web/signin.js) in Chromium (tests/helpers/browser.ts finds one), against the local cloud
 * with AuthMode=oidc: the page sends the browser to the development issuer, comes back with a code, trades it (PKCE)
 * for a token and connects with it. Without the token the handshake would be refused, so "online" proves the whole
 * flow. The name comes from the token alone: the page never asks for one, shows who is signed in, renders the
 * user's messages as their own, and signs out back to the issuer.
 */
jest.setTimeout(240_000);

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

it("ends the issuer's session on sign-out: a second tab is signed in without asking, and after sign-out every tab is asked again", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const first = await context.newPage();
  first.setDefaultTimeout(UI_TIMEOUT_MS);
  await signIn(first, 'yara');

  // The issuer remembers this browser (a cookie on its own origin), as Cognito's hosted UI does: a second tab, with
  // no token of its own, comes back signed in without seeing the form.
  const second = await context.newPage();
  second.setDefaultTimeout(UI_TIMEOUT_MS);
  const formsShown: string[] = [];
  const logouts: URL[] = [];
  second.on('response', (response) => {
    const url = new URL(response.url());
    if (url.pathname === '/dev-oidc/authorize' && response.status() === 200) formsShown.push(url.href);
    if (url.pathname === '/dev-oidc/logout') logouts.push(url);
  });
  await second.goto(cloud.httpUrl);
  await second.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect(await second.getByTestId('me-name').textContent()).toBe('yara');
  expect(formsShown).toEqual([]);

  // Sign-out goes through the issuer's end_session_endpoint and back to the chat page, which is asked again.
  await second.getByTestId('sign-out-button').click();
  await second.waitForURL(/\/dev-oidc\/authorize\?/);
  await second.locator('input[name="username"]').waitFor();
  expect(logouts).toHaveLength(1);
  const logout = logouts[0] as URL;
  expect(logout.searchParams.get('post_logout_redirect_uri')).toBe(`${cloud.httpUrl}/`);
  expect(logout.searchParams.get('client_id')).toBe((cloud.devIssuer as { clientId: string }).clientId);
  expect(logout.searchParams.get('id_token_hint')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

  // The session is over for the whole browser, not only that tab: the next person to sign in is asked who they are.
  const third = await context.newPage();
  third.setDefaultTimeout(UI_TIMEOUT_MS);
  await third.goto(cloud.httpUrl);
  await third.waitForURL(/\/dev-oidc\/authorize\?/);
  await third.locator('input[name="username"]').waitFor();
  await third.screenshot({ path: join(SCREENSHOTS, 'dev-sign-in-1100x760.png') });
  await third.locator('input[name="username"]').fill('xavier');
  await third.locator('button[type="submit"]').click();
  await third.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect(await third.getByTestId('me-name').textContent()).toBe('xavier');
  await context.close();
});

it('links a member of the admin group to the broadcast page, and no one else', async () => {
  const adminGroup = cloud.template.parameter('AdminGroupName') as string;
  for (const [username, groups, shown] of [
    ['root', adminGroup, true],
    ['mallory', 'users', false],
  ] as const) {
    const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    await page.goto(cloud.httpUrl);
    await page.waitForURL(/\/dev-oidc\/authorize\?/);
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="groups"]').fill(groups);
    await page.locator('button[type="submit"]').click();
    await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
    expect(await page.getByTestId('broadcast-link').isVisible()).toBe(shown);
    if (shown) {
      await page.screenshot({ path: join(SCREENSHOTS, 'signed-in-admin-1100x760.png') });
      await page.getByTestId('broadcast-link').click();
      // The same tab holds the sign-in: the broadcast page is ready without signing in again.
      await page.waitForURL(`${cloud.httpUrl}/broadcast.html`);
      await page.locator('form[data-ready="true"]').waitFor();
      expect(await page.getByTestId('broadcast-who').textContent()).toBe(username);
    }
    await context.close();
  }
});
