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
jest.setTimeout(60_000);

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
  // Each heartbeat's time as the page sends it (its WebSocket.send wrapped before any script runs), not when the test
  // process hears of the frame: under load that notice lags by a varying amount and would bend the gaps measured.
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
  // 5.5 s of steady typing: a heartbeat every 2 s is three, the 5 s default two.
  const started = Date.now();
  while (Date.now() - started < 5500) await page.getByTestId('composer-input').press('a', { delay: 100 });
  const heartbeats = await page.evaluate(
    () => (globalThis as unknown as { typingSent: number[] }).typingSent,
  );
  expect(heartbeats.length).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < heartbeats.length; i++)
    expect((heartbeats[i] ?? 0) - (heartbeats[i - 1] ?? 0)).toBeGreaterThanOrEqual(1900);
});
