import type { Browser } from 'playwright-core';
import type { LocalCloud } from '../../tools/local/cloud';
import { launchChromium } from '../helpers/browser';
import { signInByName, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { startTestCloud } from '../helpers/localCloud';

/**
 * The web chat types at the deployment's pace: with TypingIntervalSeconds=2 the page's config.json says so and its
 * client sends a typing heartbeat at most every 2 s (not the 5 s default), so the others' "is typing…" never lapses
 * between heartbeats.
 */
jest.setTimeout(240_000);

let cloud: LocalCloud;
let browser: Browser;

beforeAll(async () => {
  cloud = (await startTestCloud({ settings: { TypingIntervalSeconds: '2' } })).cloud;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await cloud?.close();
});

it("sends typing heartbeats at the deployment's TypingIntervalSeconds", async () => {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  // The page's clock is Playwright's (page.clock): it runs on its own while the page signs in and opens a room, then
  // stands still while the test types, moving 100 ms between keys. The gaps are the page's own, on that clock:
  // however slowly a loaded machine delivers the keys, 5.5 s of typing is 5.5 s.
  await page.clock.install();
  // Each heartbeat's time as the page sends it (its WebSocket.send wrapped before any script runs).
  await page.addInitScript(() => {
    const sent: number[] = [];
    (globalThis as unknown as { typingSent: number[] }).typingSent = sent;
    const send = WebSocket.prototype.send;
    WebSocket.prototype.send = function (this: WebSocket, data) {
      const text = String(data);
      if (text.includes('"action":"typing"') && !text.includes('false')) sent.push(Date.now());
      return send.call(this, data);
    };
  });
  await signInByName(page, cloud.httpUrl, 'alice', 'visible');
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
  // 5.5 s of steady typing, a key every 100 ms: a heartbeat every 2 s is three, the 5 s default two.
  const composer = page.getByTestId('composer-input');
  for (let i = 0; i < 55; i++) {
    await composer.press('a');
    await page.clock.runFor(100);
  }
  const heartbeats = await page.evaluate(
    () => (globalThis as unknown as { typingSent: number[] }).typingSent,
  );
  expect(heartbeats.slice(1).map((at, i) => at - (heartbeats[i] as number))).toEqual([2000, 2000]);
});
