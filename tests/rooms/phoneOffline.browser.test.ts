import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEFAULT_BACKOFF } from '../../client/backoff';
import type { LocalCloud } from '../../tools/local/cloud';
import { launchChromium } from '../helpers/browser';
import { SCREENSHOTS, shownRoom, signInByName, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { fits } from '../helpers/fitsWindow';
import { startTestCloud } from '../helpers/localCloud';

/**
 * A phone (390×844) through a server outage longer than the client's reconnects: the client gives up (its backoff's
 * `maxAttempts` reconnects refused in a row) and the page shows "Offline". "Retry now" is then in the bar, whole in
 * the window beside the room's name, and tapping it once the server is back brings the page online in its room;
 * while the page still reconnects by itself the phone's bar leaves it out.
 */
jest.setTimeout(240_000);

const PHONE = { width: 390, height: 844 };

const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-phone-offline-'));
let cloud: LocalCloud | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  cloud = (await startTestCloud({ dataDir })).cloud;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await cloud?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const status = (page: Page, state: string) =>
  page.locator(`[data-testid="connection-status"][data-state="${state}"]`);

/** The client's connection states as it reports them, recorded in the page from here on. */
async function recordStates(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      states: string[];
      roomcast: { client: { on(event: 'state', listener: (e: { state: string }) => void): void } };
    };
    g.states = [];
    g.roomcast.client.on('state', ({ state }) => g.states.push(state));
  });
}

/**
 * The page's clock past the client's longest backoff wait, once per reconnect, until the client gives up: each jump
 * fires the pending reconnect, and the next jump waits for its refusal (the next `reconnecting`, or `failed`).
 */
async function outlastReconnects(page: Page): Promise<void> {
  for (let jump = 0; jump <= DEFAULT_BACKOFF.maxAttempts + 1; jump++) {
    const seen = await page.evaluate(() => (globalThis as unknown as { states: string[] }).states.length);
    if (await status(page, 'offline').count()) return;
    await page.clock.fastForward(DEFAULT_BACKOFF.maxDelayMs + 1_000);
    await page.waitForFunction(
      (n) => {
        const states = (globalThis as unknown as { states: string[] }).states;
        const last = states[states.length - 1];
        return states.length > n && (last === 'reconnecting' || last === 'failed');
      },
      seen,
      { polling: 100 },
    );
  }
}

it('on a phone, once the client has given up, "Retry now" is whole in the bar and brings the page back to its room', async () => {
  const first = cloud as LocalCloud;
  const page = await (await (browser as Browser).newContext({ viewport: PHONE })).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.clock.install();
  await signInByName(page, first.httpUrl, 'olga-offline');
  // A phone's room panel is a drawer, opened from the bar.
  await page.getByTestId('sidebar-toggle').click();
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor({
    state: 'attached',
  });
  const code = await shownRoom(page);
  await recordStates(page);

  // The server goes away (the whole local cloud, its ports closed): the page reconnects by itself, and a phone's
  // bar leaves "Retry now" out for the room's name.
  const ports = { httpPort: Number(new URL(first.httpUrl).port), wsPort: Number(new URL(first.wsUrl).port) };
  await first.close();
  cloud = undefined;
  await status(page, 'reconnecting').waitFor();
  const retry = page.getByTestId('retry-now');
  expect(await retry.isVisible()).toBe(false);

  // The outage outlasts every reconnect: the client gives up and the page says "Offline", with "Retry now" whole in
  // the window and the room's name still in the bar.
  await outlastReconnects(page);
  await status(page, 'offline').waitFor();
  await retry.waitFor();
  expect(await fits(retry, PHONE.width)).toBe(true);
  expect(await fits(page.getByTestId('connection-status'), PHONE.width)).toBe(true);
  expect(await fits(page.getByTestId('room-title'), PHONE.width)).toBe(true);
  await page.screenshot({ path: join(SCREENSHOTS, 'offline-retry-390.png') });

  // The server is back (same ports, same data); the client does not try by itself, a tap on "Retry now" does.
  cloud = (await startTestCloud({ dataDir, ...ports })).cloud;
  await retry.click();
  await status(page, 'online').waitFor();
  await page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor({ state: 'attached' });
  expect(await retry.isVisible()).toBe(false);
});
