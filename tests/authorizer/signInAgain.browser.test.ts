import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CLOCK_LEEWAY_SECONDS } from '../../functions/core/identity/identity';
import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import { launchChromium } from '../helpers/browser';
import { hasText, SCREENSHOTS, shownRoom, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { fits } from '../helpers/fitsWindow';
import { deleteConnection, lambdaClock, startTestCloud } from '../helpers/localCloud';

/**
 * A signed-in tab whose sign-in lapses under it: its token expires, or the issuer no longer publishes its key, or the
 * local cloud restarted (same ports, same data dir) with a new development issuer. The authorizer refuses the token
 * with 401, which a browser never shows the page: the page asks to sign in again instead of reconnecting for ever,
 * and signing in again lands in the room it showed. On a phone's window (390×844) as on a laptop's, "Sign in again"
 * is whole in the bar, beside the room's name.
 *
 * A token lapses by the clocks, not by waiting: the cloud's functions read a test clock (lambdaTestClock), so the
 * authorizer's check of `exp` (and its leeway) is the real one against a time the test moves on, as the tab's own
 * clock is moved (page.clock).
 */
jest.setTimeout(240_000);

/**
 * From the cloud being back to "Sign in again": a reconnect refused (the client's backoff waits at most 15 s,
 * client/backoff.ts DEFAULT_BACKOFF), then the page's look at /config.json; the rest is slack for a loaded CI machine.
 */
const ASK_WITHIN_MS = 30_000;

/**
 * The tabs' tokens' lifetime: a tab takes a token with 30 s left (web/signin.js), and the rest is slack for a loaded
 * machine to load the page and connect before the test moves the clocks past it.
 */
const TOKEN_TTL_SECONDS = 120;

const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 800 };

const parameters = { AuthMode: 'oidc' };
const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-signin-again-'));
let cloud: LocalCloud | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  cloud = (await startTestCloud({ parameters, dataDir, lambdaTestClock: true })).cloud;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cloud?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const status = (page: Page, state: string) =>
  page.locator(`[data-testid="connection-status"][data-state="${state}"]`);

/**
 * A new tab (a `viewport` window, a laptop's unless given) holding `token` as its sign-in (web/signin.js keeps it in
 * sessionStorage), on the chat page.
 */
async function tabWithToken(
  at: LocalCloud,
  token: string,
  clockAt?: number,
  viewport = LAPTOP,
): Promise<Page> {
  const page = await (await (browser as Browser).newContext({ viewport })).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  if (clockAt !== undefined) await page.clock.install({ time: clockAt });
  await page.goto(`${at.httpUrl}/config.json`);
  await page.evaluate((t) => {
    const g = globalThis as unknown as { sessionStorage: { setItem(key: string, value: string): void } };
    g.sessionStorage.setItem('roomcast.signin.token', t);
  }, token);
  await page.goto(`${at.httpUrl}/`);
  return page;
}

/**
 * A token of `ttlSeconds` for `username`: the functions' clock is first brought to the machine's (it stands still
 * between a test's moves), so the token is in date for the authorizer as for the tab until `lapse` moves them on.
 */
async function mintFor(at: LocalCloud, username: string, ttlSeconds: number): Promise<string> {
  const clock = lambdaClock(at);
  clock.set(Math.max(clock.now(), Date.now()));
  return (await (at.devIssuer as DevIssuer).mint(username, { ttlSeconds })).idToken;
}

/**
 * The time from which the authorizer refuses a token of `exp` (seconds), and the tabs see it expired: the functions'
 * clock and each tab's clock set to just past `exp` and the authorizer's leeway (CLOCK_LEEWAY_SECONDS).
 */
async function lapse(at: LocalCloud, exp: number, pages: Page[]): Promise<void> {
  const refusedFrom = (exp + CLOCK_LEEWAY_SECONDS + 1) * 1000;
  const clock = lambdaClock(at);
  clock.set(Math.max(clock.now(), refusedFrom));
  for (const page of pages) await page.clock.setSystemTime(refusedFrom);
}

const expOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number }).exp;

/** The tab's connection, closed by the gateway (DELETE @connections): the page reconnects with the token it has. */
async function drop(at: LocalCloud, page: Page): Promise<void> {
  const connectionId = await page.evaluate(async () => {
    const g = globalThis as unknown as {
      roomcast: { client: { info(): Promise<{ connectionId: string }> } };
    };
    return (await g.roomcast.client.info()).connectionId;
  });
  expect(await deleteConnection(at.gateway.callbackUrl, connectionId)).toBe('closed');
}

/** Signs in at the development issuer's page as `username`, from wherever the page sent the browser. */
async function signIn(page: Page, origin: string, username: string): Promise<void> {
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === origin && !url.search.includes('code='));
}

it('asks to sign in again once the token has expired, without a fetch, and returns to the room', async () => {
  const at = cloud as LocalCloud;
  // A token of TOKEN_TTL_SECONDS; the authorizer accepts it until 30 s past its exp (CLOCK_LEEWAY_SECONDS).
  const idToken = await mintFor(at, 'erin', TOKEN_TTL_SECONDS);
  const page = await tabWithToken(at, idToken, Date.now());
  await status(page, 'online').waitFor();
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const code = await shownRoom(page);

  // The connection outlives the token (API Gateway checks it at $connect only); then it drops.
  await lapse(at, expOf(idToken), [page]);
  const fetched: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'fetch') fetched.push(request.url());
  });
  await drop(at, page);
  const again = page.getByTestId('sign-in-again');
  await again.waitFor({ timeout: ASK_WITHIN_MS });
  await hasText(page.getByTestId('connection-status'), 'Your sign-in has expired');
  // The expired `exp` was enough: no look at /config.json or the issuer's keys.
  expect(fetched).toEqual([]);

  await again.click();
  await signIn(page, at.httpUrl, 'erin');
  await status(page, 'online').waitFor();
  await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
});

it('on a phone (390×844) as on a laptop (1280×800), "Sign in again" is whole in the window and signs in again', async () => {
  const at = cloud as LocalCloud;
  // As above, each tab in a room of its own.
  const windows = [
    { viewport: PHONE, username: 'gina' },
    { viewport: LAPTOP, username: 'hugo' },
  ];
  const tokens: string[] = [];
  for (const { username } of windows) tokens.push(await mintFor(at, username, TOKEN_TTL_SECONDS));
  const tabs: { page: Page; code: string; username: string; width: number }[] = [];
  for (const [i, { viewport, username }] of windows.entries()) {
    const page = await tabWithToken(at, tokens[i] as string, Date.now(), viewport);
    await status(page, 'online').waitFor();
    // A phone's room panel is a drawer, opened from the bar.
    if (viewport === PHONE) await page.getByTestId('sidebar-toggle').click();
    await page.getByTestId('create-room-button').click();
    await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor({
      state: 'attached',
    });
    tabs.push({ page, code: await shownRoom(page), username, width: viewport.width });
  }

  // The tokens lapse (both refused past the later one's exp); the connections drop (a phone put away).
  await lapse(
    at,
    Math.max(...tokens.map(expOf)),
    tabs.map(({ page }) => page),
  );
  for (const { page } of tabs) await drop(at, page);

  for (const { page, code, username, width } of tabs) {
    const again = page.getByTestId('sign-in-again');
    await again.waitFor({ timeout: ASK_WITHIN_MS });
    await hasText(page.getByTestId('connection-status'), 'Your sign-in has expired');
    // Whole in the window, not covered, and the page no wider than the window: a tap reaches it.
    expect(await fits(again, width)).toBe(true);
    expect(await fits(page.getByTestId('connection-status'), width)).toBe(true);
    // The room's name stays in the bar beside it.
    expect(await fits(page.getByTestId('room-title'), width)).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, `sign-in-again-${width}.png`) });

    await again.click();
    await signIn(page, at.httpUrl, username);
    await status(page, 'online').waitFor();
    await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor({ state: 'attached' });
    expect(await again.isVisible()).toBe(false);
  }
});

it("asks to sign in again when the issuer no longer publishes the key of the tab's token", async () => {
  const at = cloud as LocalCloud;
  const issuer = at.devIssuer as DevIssuer;
  const now = Math.floor(Date.now() / 1000);
  // A token the issuer signed with a key it has since retired: its kid is not in the JWKS, so the authorizer refuses
  // it (401) though it has not expired.
  const token = await issuer.sign(
    {
      iss: issuer.issuer,
      aud: issuer.clientId,
      sub: 'sub-fred',
      preferred_username: 'fred',
      iat: now,
      exp: now + 600,
    },
    { kid: 'retired-key' },
  );
  const page = await tabWithToken(at, token);
  const again = page.getByTestId('sign-in-again');
  await again.waitFor({ timeout: ASK_WITHIN_MS });
  await hasText(page.getByTestId('connection-status'), 'Your sign-in has expired');
  await again.click();
  await signIn(page, at.httpUrl, 'fred');
  await status(page, 'online').waitFor();
});

it('after a local restart, asks to sign in again rather than reconnecting for ever, and returns to the room', async () => {
  const first = cloud as LocalCloud;
  const page = await (
    await (browser as Browser).newContext({ viewport: { width: 1280, height: 800 } })
  ).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(first.httpUrl);
  await signIn(page, first.httpUrl, 'alice');
  await status(page, 'online').waitFor();
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const code = await shownRoom(page);

  // The local cloud restarts on the same ports and data: the tab drops and reconnects to a new issuer's stack.
  const ports = { httpPort: Number(new URL(first.httpUrl).port), wsPort: Number(new URL(first.wsUrl).port) };
  const oldIssuer = first.devIssuer?.issuer;
  await first.close();
  cloud = undefined;
  await status(page, 'reconnecting').waitFor();
  cloud = (await startTestCloud({ parameters, dataDir, ...ports })).cloud;
  expect(cloud.devIssuer?.issuer).not.toBe(oldIssuer);
  expect(cloud.httpUrl).toBe(first.httpUrl);

  // The page asks, instead of "Reconnecting…" for ever (the authorizer refuses its token with 401 meanwhile).
  const again = page.getByTestId('sign-in-again');
  await again.waitFor({ timeout: ASK_WITHIN_MS });
  await hasText(page.getByTestId('connection-status'), 'Your sign-in has expired');
  expect(await page.getByTestId('retry-now').isVisible()).toBe(false);

  // Signing in again is the normal sign-in, at the new issuer, and lands in the room the tab showed.
  await again.click();
  await signIn(page, cloud.httpUrl, 'alice');
  await status(page, 'online').waitFor();
  await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  expect(new URL(page.url()).hash).toContain(`room=${code}`);
  expect(await again.isVisible()).toBe(false);
});
