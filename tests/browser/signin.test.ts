import { type Browser, chromium } from 'playwright-core';
import type { LocalCloud } from '../../local/cloud';
import { findChromium } from '../helpers/browser';
import { startTestCloud } from '../helpers/localCloud';

/**
 * The web page's sign-in (web/signin.js) in Chromium (tests/helpers/browser.ts finds one), against the local cloud with AuthMode=oidc: the page
 * sends the browser to the development issuer, comes back with a code, trades it (PKCE) for a token and connects
 * with it. Without the token the handshake would be refused, so "online" proves the whole flow.
 */
jest.setTimeout(90_000);

const UI_TIMEOUT_MS = 15_000;

let cloud: LocalCloud;
let browser: Browser;

beforeAll(async () => {
  cloud = (await startTestCloud({ parameters: { AuthMode: 'oidc' } })).cloud;
  browser = await chromium.launch({
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await cloud?.close();
});

it('signs in at the issuer with the code flow and PKCE, then chats online with the token', async () => {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const tokenRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/dev-oidc/token') && request.method() === 'POST')
      tokenRequests.push(request.postData() ?? '');
  });
  await page.goto(cloud.httpUrl);
  // The page has no token: it sends the browser to the issuer's sign-in form.
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
  await page.locator('input[name="username"]').fill('zoe');
  await page.locator('button[type="submit"]').click();
  // Back on the chat page, without the code in the address bar.
  await page.waitForURL((url) => url.origin === cloud.httpUrl && !url.search.includes('code='));
  await page.getByTestId('username-input').fill('zoe');
  await page.getByTestId('username-submit').click();
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect(tokenRequests).toHaveLength(1);
  expect(new URLSearchParams(tokenRequests[0]).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
});
