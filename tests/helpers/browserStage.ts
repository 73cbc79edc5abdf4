import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import type { SettingValues } from '../../tools/local/settings';
import { launchChromium } from './browser';
import { ChatClient } from './chatClient';
import { startTestCloud } from './localCloud';

/**
 * Per step: generous, because CI runs two test files at once on two cores (beside other work: a second CI run) and
 * Chromium's renderer can wait many seconds for a core; each wait ends as soon as the page shows the state, so a
 * passing run takes no longer for it.
 */
export const UI_TIMEOUT_MS = 120_000;

/** Where browser tests leave their screenshots. */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'browser');

/** A browser test file's local cloud and Chromium, and the contexts its tests opened (closed after each test). */
export interface BrowserStage {
  readonly cloud: LocalCloud;
  readonly browser: Browser;
  /**
   * A new browser profile (own localStorage), closed after the test that opened it; `options` over the tests'
   * defaults (tests/helpers/browser.ts TEST_CONTEXT_DEFAULTS).
   */
  newContext(
    viewport: { width: number; height: number },
    options?: BrowserContextOptions,
  ): Promise<BrowserContext>;
  /** A page in a new profile, its waits bounded by UI_TIMEOUT_MS. */
  newPage(viewport: { width: number; height: number }, options?: BrowserContextOptions): Promise<Page>;
}

/**
 * Starts a local cloud (its defaults, or `parameters` and `settings` over them) and Chromium before a browser test file's
 * tests, closes each test's contexts after it (a finished test's pages would otherwise stay connected, rendering
 * every lobby message, and compete with the next test's for the CPU), and the browser and cloud after the file.
 * Called from the top of the file.
 */
export function browserStage(parameters?: Record<string, string>, settings?: SettingValues): BrowserStage {
  let cloud: LocalCloud | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    cloud = (await startTestCloud({ ...(parameters && { parameters }), ...(settings && { settings }) }))
      .cloud;
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await browser?.close();
    await cloud?.close();
  });
  const stage: BrowserStage = {
    get cloud() {
      if (!cloud) throw new Error('the local cloud is not started yet');
      return cloud;
    },
    get browser() {
      if (!browser) throw new Error('Chromium is not started yet');
      return browser;
    },
    async newContext(viewport, options) {
      const context = await stage.browser.newContext({ ...options, viewport });
      contexts.push(context);
      return context;
    },
    async newPage(viewport, options) {
      const page = await (await stage.newContext(viewport, options)).newPage();
      page.setDefaultTimeout(UI_TIMEOUT_MS);
      return page;
    },
  };
  return stage;
}

/** Signs in on the chat page by name and waits until it is online in the lobby (`lobby`: shown, or only in the DOM). */
export async function signInByName(
  page: Page,
  url: string,
  username: string,
  lobby: 'visible' | 'attached' = 'attached',
): Promise<void> {
  await page.goto(url);
  await page.getByTestId('username-input').fill(username);
  await page.getByTestId('username-submit').click();
  await online(page);
  await page.locator('[data-testid="room-code"][data-room-id="lobby"]').waitFor({ state: lobby });
}

/**
 * A page in a new profile signed in at the local cloud's development issuer (AuthMode=oidc) as `username`, on the
 * chat and online. The page holds what a sign-in at the issuer leaves a tab: the issuer's ID token for the name (the
 * one its token endpoint answers, `mint`) in sessionStorage, where web/signin.js keeps it; the walk through the
 * issuer's page (signInAtIssuer) is a test of its own (tests/authorizer/signin.browser.test.ts, an invite opened
 * signed out in tests/rooms/newcomer.browser.test.ts), and would cost every person of every test two more page
 * loads and a code exchange.
 */
export async function signedInAtIssuer(
  stage: BrowserStage,
  username: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<Page> {
  const page = await stage.newPage({ width: 1280, height: 800 });
  page.setDefaultTimeout(timeoutMs);
  const { idToken } = await (stage.cloud.devIssuer as DevIssuer).mint(username);
  await page.goto(`${stage.cloud.httpUrl}/config.json`);
  await page.evaluate((token) => {
    const tab = globalThis as unknown as { sessionStorage: { setItem(key: string, value: string): void } };
    tab.sessionStorage.setItem('roomcast.signin.token', token);
  }, idToken);
  await page.goto(stage.cloud.httpUrl);
  await online(page);
  return page;
}

/**
 * Opens `url` on the page, signed out: the chat sends it to the development issuer, where it signs in as `username`,
 * and back; waits until it is online.
 */
export async function signInAtIssuer(
  stage: BrowserStage,
  page: Page,
  username: string,
  url: string,
): Promise<void> {
  await page.goto(url);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((at) => at.origin === stage.cloud.httpUrl && !at.search.includes('code='));
  await online(page);
}

/** One look at an element's text inside hasText's wait, whose own bound is the hang detector. */
const TEXT_PROBE_MS = 500;

/** Waits until the element shows exactly `text` (trimmed), for up to `timeoutMs`; then fails showing what it shows. */
export async function hasText(
  locator: { textContent(options?: { timeout?: number }): Promise<string | null> },
  text: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = (await locator.textContent({ timeout: TEXT_PROBE_MS }).catch(() => null))?.trim() ?? null;
    if (last === text) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(last).toBe(text);
}

/** A 1x1 PNG: an avatar or image a test uploads. */
export const ONE_PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC',
  'base64',
);

/** A wire connection of user `sub` on `stage`'s cloud, signed in at the development issuer and showing `shownAs`. */
export async function wireDevice(
  stage: { cloud: LocalCloud },
  sub: string,
  shownAs: string,
): Promise<ChatClient> {
  const issuer = stage.cloud.devIssuer as DevIssuer;
  const now = Math.floor(Date.now() / 1000);
  const token = await issuer.sign({
    iss: issuer.issuer,
    aud: issuer.clientId,
    sub,
    preferred_username: shownAs,
    iat: now,
    exp: now + 600,
  });
  return ChatClient.connect(`${stage.cloud.wsUrl}?token=${encodeURIComponent(token)}`);
}

/** The links under `locator` as a reader meets them: their text, address, `rel` and `target`. */
export function linksIn(
  locator: Locator,
): Promise<Array<{ text: string; href: string; rel: string; target: string }>> {
  return locator.locator('a').evaluateAll((as) =>
    as.map((a) => {
      const link = a as unknown as { href: string; rel: string; target: string; textContent: string };
      return { text: link.textContent, href: link.href, rel: link.rel, target: link.target };
    }),
  );
}

/** Sends `text` from the composer and waits until it is stored (its row has a seq), not the pending copy shown at once. */
export async function say(page: Page, text: string): Promise<void> {
  await send(page, text);
  await page
    .locator('[data-testid="message-list"] [data-testid="message"][data-status="sent"][data-seq]')
    .filter({ hasText: text })
    .first()
    .waitFor();
}

/**
 * Two people signed in at the issuer in a room the first created and the second joined by its code: the pages, and
 * the room's code.
 */
export async function signedInRoom(
  stage: BrowserStage,
  [owner, joiner]: [string, string],
  timeoutMs = UI_TIMEOUT_MS,
): Promise<{ owner: Page; joiner: Page; code: string }> {
  const ownerPage = await signedInAtIssuer(stage, owner, timeoutMs);
  const joinerPage = await signedInAtIssuer(stage, joiner, timeoutMs);
  const code = await roomOfTwo(ownerPage, joinerPage);
  return { owner: ownerPage, joiner: joinerPage, code };
}

/** The first page creates a room and the second joins it by its code, as people do: the room's code. */
export async function roomOfTwo(owner: Page, joiner: Page): Promise<string> {
  const code = await createRoom(owner);
  await joinRoom(joiner, code);
  return code;
}

/**
 * Creates a room from the sidebar (named `name`, listed in the directory when `listed`) and waits until the page
 * shows it, not the room it showed before (a second room of the same people): the new room's code.
 */
export async function createRoom(
  page: Page,
  options: { name?: string; listed?: boolean } = {},
): Promise<string> {
  const before = await shownRoom(page);
  if (options.name !== undefined) await page.getByTestId('new-room-name').fill(options.name);
  if (options.listed) await page.getByTestId('new-room-public').check();
  await page.getByTestId('create-room-button').click();
  await page
    .locator(
      `[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"]):not([data-room-id="${before}"])`,
    )
    .waitFor();
  return shownRoom(page);
}

/** Joins a room by its code from the sidebar and waits until the page shows it. */
export async function joinRoom(page: Page, code: string): Promise<void> {
  await page.getByTestId('join-input').fill(code);
  await page.getByTestId('join-button').click();
  await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
}

/** Waits until the page shows a direct room (its code has 12 characters, a room's 8): its code. */
export async function openedDirectRoom(page: Page): Promise<string> {
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { dataset: { roomId?: string } } | null };
        }
      ).document.querySelector('[data-testid="room-code"]')?.dataset.roomId?.length === 12,
  );
  return shownRoom(page);
}

/** The code of the room the page shows (`lobby` in none). */
export const shownRoom = async (page: Page): Promise<string> =>
  (await page.getByTestId('room-code').getAttribute('data-room-id')) ?? '';

/** Waits until the page is connected (after a reload, say). */
export const online = (page: Page): Promise<void> =>
  page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();

/**
 * A page in a new profile (1100×760 unless `viewport`; `context` over the tests' defaults) signed in by name and
 * online, the lobby shown (`lobby: 'attached'`: only in the DOM); `before` runs on the page before it opens the chat
 * (to listen to its dialogs or frames).
 */
export async function person(
  stage: BrowserStage,
  username: string,
  options: {
    viewport?: { width: number; height: number };
    context?: BrowserContextOptions;
    lobby?: 'visible' | 'attached';
    before?: (page: Page) => void | Promise<void>;
  } = {},
): Promise<Page> {
  const page = await stage.newPage(options.viewport ?? { width: 1100, height: 760 }, options.context);
  await options.before?.(page);
  await signInByName(page, stage.cloud.httpUrl, username, options.lobby ?? 'visible');
  return page;
}

/** Types `text` in the composer and presses Enter, without waiting for the message to be stored (`say` waits). */
export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

/** The stored message rows (they have a seq) whose text contains `text`. */
export const messageRow = (page: Page, text: string) =>
  page
    .locator('[data-testid="message"][data-seq]')
    .filter({ has: page.locator('.msg-text', { hasText: text }) });

/**
 * People signed in by name (`person`, each with `options`: its window, say), the first creating a room and the others
 * joining it by its code in turn: their pages, in the order of `names`, and the room's code.
 */
export async function peopleInRoom<Names extends string[]>(
  stage: BrowserStage,
  names: [...Names],
  options: { viewport?: { width: number; height: number } } = {},
): Promise<{ pages: { [K in keyof Names]: Page }; code: string }> {
  const pages: Page[] = [];
  for (const name of names) pages.push(await person(stage, name, options));
  const [owner, ...others] = pages as [Page, ...Page[]];
  const code = await createRoom(owner);
  for (const other of others) await joinRoom(other, code);
  return { pages: pages as { [K in keyof Names]: Page }, code };
}
