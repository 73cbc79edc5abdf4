import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { LocalCloud } from '../../tools/local/cloud';
import type { SettingValues } from '../../tools/local/settings';
import { launchChromium } from './browser';
import { startTestCloud } from './localCloud';

/**
 * Per step: generous, because CI runs two test files at once on two cores and Chromium's renderer can wait seconds
 * for a core; each wait ends as soon as the page shows the state, so a passing run takes no longer for it.
 */
export const UI_TIMEOUT_MS = 20_000;

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
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  await page.locator('[data-testid="room-code"][data-room-id="lobby"]').waitFor({ state: lobby });
}

/**
 * A page in a new profile signed in at the local cloud's development issuer (AuthMode=oidc) as `username`, back on
 * the chat and online.
 */
export async function signedInAtIssuer(
  stage: BrowserStage,
  username: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<Page> {
  const page = await stage.newPage({ width: 1280, height: 800 });
  page.setDefaultTimeout(timeoutMs);
  await page.goto(stage.cloud.httpUrl);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === stage.cloud.httpUrl && !url.search.includes('code='));
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  return page;
}

/** Waits until the element shows exactly `text` (trimmed), for up to `timeoutMs`; then fails showing what it shows. */
export async function hasText(
  locator: { textContent(options?: { timeout?: number }): Promise<string | null> },
  text: string,
  timeoutMs = UI_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = (await locator.textContent({ timeout: 500 }).catch(() => null))?.trim() ?? null;
    if (last === text) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(last).toBe(text);
}

/** Sends `text` from the composer and waits until it is stored (its row has a seq), not the pending copy shown at once. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
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
  // The new room, not the one the owner shows already (a second room of the same two people).
  const before = await shownRoom(owner);
  await owner.getByTestId('create-room-button').click();
  await owner
    .locator(
      `[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"]):not([data-room-id="${before}"])`,
    )
    .waitFor();
  const code = await shownRoom(owner);
  await joiner.getByTestId('join-input').fill(code);
  await joiner.getByTestId('join-button').click();
  await joiner.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  return code;
}

/** The code of the room the page shows (`lobby` in none). */
export const shownRoom = async (page: Page): Promise<string> =>
  (await page.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
