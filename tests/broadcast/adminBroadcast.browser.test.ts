import type { Browser, Page } from 'playwright-core';
import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import { launchChromium } from '../helpers/browser';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud } from '../helpers/localCloud';

/**
 * The admin broadcast page (web/broadcast.html) in Chromium against the local cloud with AuthMode=cognito: the page
 * signs in at the development issuer (code flow, PKCE) and posts with the token. A member of the admin group reaches
 * a connected user; someone outside it is told plainly that they are not an admin.
 */
jest.setTimeout(240_000);

const UI_TIMEOUT_MS = 15_000;

let cloud: LocalCloud;
let browser: Browser;
let listener: ChatClient;

beforeAll(async () => {
  cloud = (await startTestCloud({ parameters: { AuthMode: 'cognito' } })).cloud;
  const { idToken } = await (cloud.devIssuer as DevIssuer).mint('listener');
  listener = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(idToken)}`);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await listener?.close();
  await cloud?.close();
});

/** Opens the page, signs in at the issuer as `username` with `groups`, and waits until the form is ready. */
async function signedInPage(username: string, groups: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(`${cloud.httpUrl}/broadcast.html`);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  expect(new URL(page.url()).searchParams.get('code_challenge_method')).toBe('S256');
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="groups"]').fill(groups);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === '/broadcast.html' && !url.search.includes('code='));
  await page.locator('form[data-ready="true"]').waitFor();
  return page;
}

async function broadcast(page: Page, text: string) {
  await page.getByTestId('broadcast-message').fill(text);
  await page.getByTestId('broadcast-send').click();
  const statusLine = page.getByTestId('broadcast-status');
  await statusLine.locator('xpath=self::*[@data-kind="ok" or @data-kind="error"]').waitFor();
  return statusLine;
}

it('signs an admin in and broadcasts to a connected user with the token', async () => {
  const page = await signedInPage('root', cloud.template.parameter('AdminGroupName') as string);
  expect(await page.locator('#me').textContent()).toMatch(/Signed in as\s*root/);
  expect(await page.getByTestId('broadcast-who').textContent()).toBe('root');
  expect(await page.getByTestId('broadcast-sign-out').isVisible()).toBe(true);
  expect(await page.locator('#endpoint').textContent()).toBe(`${cloud.httpUrl}/admin/broadcast`);
  const statusLine = await broadcast(page, 'Maintenance at 22:00 UTC');
  expect(await statusLine.getAttribute('data-kind')).toBe('ok');
  const frame = await listener.next((f) => f.type === 'broadcast', undefined, 'the broadcast');
  expect(frame.text).toBe('Maintenance at 22:00 UTC');
  expect(await statusLine.textContent()).toContain(String(frame.messageId));
});

it('tells a signed-in user outside the admin group that they may not broadcast', async () => {
  const page = await signedInPage('mallory', 'users');
  const statusLine = await broadcast(page, 'I am not an admin');
  expect(await statusLine.getAttribute('data-kind')).toBe('error');
  expect(await statusLine.textContent()).toMatch(/^403: .*not a member of the admin group/);
});

it("signs out through Cognito's /logout, back to the chat page, where the issuer asks to sign in again", async () => {
  const page = await signedInPage('root', cloud.template.parameter('AdminGroupName') as string);
  const logouts: URL[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === '/logout') logouts.push(url);
  });
  await page.getByTestId('broadcast-sign-out').click();
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').waitFor();
  // Cognito's logout: on the hosted UI's domain (the authorization endpoint's origin), with the app client and the
  // chat page, the address the template registers in the app client's LogoutURLs.
  expect(logouts).toHaveLength(1);
  const logout = logouts[0] as URL;
  expect(logout.origin).toBe((cloud.devIssuer as DevIssuer).url);
  expect(logout.searchParams.get('client_id')).toBe((cloud.devIssuer as DevIssuer).clientId);
  expect(logout.searchParams.get('logout_uri')).toBe(`${cloud.httpUrl}/`);
  // The session is over: the chat page's sign-in asks again instead of returning as root.
  expect(new URL(page.url()).searchParams.get('redirect_uri')).toBe(`${cloud.httpUrl}/`);
});
