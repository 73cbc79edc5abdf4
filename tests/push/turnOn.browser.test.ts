import type { BrowserContext, Page } from 'playwright-core';
import { browserStage, online, signInAtIssuer, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { pushStandIn } from '../helpers/pushStandIn';

/**
 * The sidebar's "Turn on notifications" (web/notify.js, web/push.js) in Chromium at 1280×800 against the local cloud
 * with sign-in: a click is answered whatever happens. Subscribed, the button says notifications are on, and still
 * does after a reload; a browser whose PushManager.subscribe never answers gets a clear message once push.js's
 * 10 s have passed, and the button offers to try again. The browser's prompt is one whose person clicks Allow
 * (headless Chromium denies every prompt): it grants the context's permission, so Notification.permission is the
 * browser's own. The page's clock is Playwright's, running at its pace until the test jumps it past the 10 s.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** alice's profile: Allow in the prompt; PushManager answered by the stand-in, or (`hang`) never. */
async function profile(hang: boolean): Promise<BrowserContext> {
  const context = await stage.newContext({ width: 1280, height: 800 });
  await context.clock.install();
  return pushStandIn(stage, context, hang);
}

async function signedIn(context: BrowserContext, username: string): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await signInAtIssuer(stage, page, username, stage.cloud.httpUrl);
  return page;
}

const toggle = (page: Page) => page.getByTestId('notifications-toggle');

it('turns on: the button says notifications are on, and still does after a reload', async () => {
  const page = await signedIn(await profile(false), 'turnon');
  await toggle(page).and(page.locator('[data-state="off"]')).waitFor();
  const before = stage.cloud.pushService.received.length;

  await toggle(page).click();
  await page.getByText('Notifications on', { exact: true }).waitFor();
  await toggle(page).and(page.locator('[data-state="on"]')).waitFor();
  expect(await toggle(page).textContent()).toBe('Notifications are on');
  expect(await toggle(page).isDisabled()).toBe(true);
  // The subscription was stored: the server answered with the stand-in's subscription (nothing pushed yet).
  expect(stage.cloud.pushService.received.length).toBe(before);

  await page.reload();
  await online(page);
  await toggle(page).and(page.locator('[data-state="on"]')).waitFor();
  expect(await toggle(page).textContent()).toBe('Notifications are on');
});

it('a subscribe that never answers: a clear message once the 10 s have passed, and the button offers to try again', async () => {
  const page = await signedIn(await profile(true), 'turnhang');
  await toggle(page).and(page.locator('[data-state="off"]')).waitFor();

  await toggle(page).click();
  await toggle(page).and(page.locator('[data-state="working"]')).waitFor();
  await page.waitForFunction(
    () => (globalThis as { __subscribeAsked?: boolean }).__subscribeAsked === true,
    undefined,
    { polling: 100 },
  );
  // The browser is waiting on its push service: the page's clock jumps past push.js's 10 s.
  await page.clock.fastForward(11_000);

  await page.getByText('Notifications not turned on', { exact: true }).waitFor();
  await page.getByText('The browser’s push service did not answer within 10 s: try again later.').waitFor();
  await toggle(page).and(page.locator('[data-state="tab-only"]')).waitFor();
  expect(await toggle(page).isDisabled()).toBe(false);
});
