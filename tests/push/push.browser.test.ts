import type { Page } from 'playwright-core';
import { browserStage, roomOfTwo, say, signedInAtIssuer, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { pushStandIn } from '../helpers/pushStandIn';

/**
 * Web Push in the web chat (web/push.js, web/sw.js), in Chromium against the local cloud: alice accepts the chat's
 * offer of notifications, closes her tab, bob mentions her, and the local cloud's push service stand-in
 * (tools/local/pushService.ts) receives one push for her, whose payload it decrypted as a browser's push service
 * hands it on names the room and bob. Headless Chromium reaches no real push service, so alice's page's
 * PushManager.subscribe asks the stand-in for the subscription instead (its endpoint and the P-256 and auth keys it
 * generated and keeps to decrypt with), and its notification prompt is one whose person clicks Allow (headless
 * Chromium denies every prompt); everything else is the product's own code.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** alice's page: PushManager answered by the stand-in, then signed in at the development issuer. */
async function aliceWithStandIn(username: string): Promise<Page> {
  const context = await stage.newContext({ width: 1280, height: 800 });
  await pushStandIn(stage, context);
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  await page.goto(stage.cloud.httpUrl);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === stage.cloud.httpUrl && !url.search.includes('code='));
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  return page;
}

it('alice turns push on, closes her tab, bob mentions her: one push naming the room and bob', async () => {
  const alice = await aliceWithStandIn('alicepush');
  const bob = await signedInAtIssuer(stage, 'bobpush');
  const code = await roomOfTwo(bob, alice);

  // The offer; she turns it on and allows the browser's prompt.
  await alice.getByTestId('push-offer').waitFor();
  await alice.context().grantPermissions(['notifications'], { origin: stage.cloud.httpUrl });
  await alice.getByTestId('push-on').click();
  await alice.getByText('Notifications on').waitFor();
  await alice.close();
  // Her connection is gone once the server has seen the socket close.
  await new Promise((resolve) => setTimeout(resolve, 2000));

  const before = stage.cloud.pushService.received.length;
  await say(bob, 'hey @alicepush, the deploy is done');
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (stage.cloud.pushService.received.length === before && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const pushes = stage.cloud.pushService.received.slice(before).map((p) => p.payload);
  expect(pushes).toEqual([
    expect.objectContaining({
      type: 'push',
      reason: 'mention',
      roomId: code,
      username: 'bobpush',
      text: 'hey @alicepush, the deploy is done',
    }),
  ]);
});
