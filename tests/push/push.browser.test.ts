import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  joinRoom,
  roomOfTwo,
  say,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';
import { pushStandIn } from '../helpers/pushStandIn';
import { localDocumentClient } from '../helpers/templateTables';

/**
 * Web Push in the web chat (web/push.js, web/sw.js), in Chromium against the local cloud: alice accepts the chat's
 * offer of notifications, closes her tab, bob mentions her in a named room and in an unnamed one, and the local
 * cloud's push service stand-in (tools/local/pushService.ts) receives one push for each, decrypted as a browser's push
 * service hands it on. Each is then handed to alice's own service worker (Chromium's DevTools protocol delivers a push
 * message as its push service would): the notifications it shows are titled by bob and the room, its name or its code,
 * and carry the room a click opens. Headless Chromium reaches no real push service, so alice's page's
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

/** Polls `check` every 100 ms until it holds, failing after UI_TIMEOUT_MS: a condition, never a duration. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether the server still holds a connection of `username` (its Connections table, read as the local admin). */
async function connected(username: string): Promise<boolean> {
  const db = localDocumentClient(stage.cloud.dynamoEndpoint);
  const { Items = [] } = await db.send(
    new ScanCommand({ TableName: String(stage.cloud.template.physicalId('ConnectionsTable')) }),
  );
  return Items.some((item) => item.username === username);
}

/** A notification alice's service worker showed, and the page a click on it opens. */
interface Shown {
  title: string;
  body: string;
  opens: string;
}

/**
 * Hands each decrypted `payload` to the chat's service worker in `page`'s browser as its push service would (DevTools
 * protocol, ServiceWorker.deliverPushMessage), then clicks each notification it showed. Headless Chromium refuses
 * notifications outright, so the worker's `showNotification` and its window opening are recorded instead of made
 * (the click is dispatched to the worker's own `notificationclick` handler); the worker's code is the product's.
 */
async function shownBy(page: Page, payloads: unknown[]): Promise<Shown[]> {
  const context = page.context();
  const cdp = await context.newCDPSession(page);
  const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
  await cdp.send('ServiceWorker.enable');
  const scope = `${stage.cloud.httpUrl}/`;
  await until(
    async () => registrations.some((r) => r.scopeURL === scope && !r.isDeleted),
    'the chat service worker is registered',
  );
  const { registrationId } = registrations.find((r) => r.scopeURL === scope) as { registrationId: string };
  let worker = context.serviceWorkers().find((w) => w.url() === `${scope}sw.js`);
  if (!worker) {
    const started = context.waitForEvent('serviceworker');
    await cdp.send('ServiceWorker.startWorker', { scopeURL: scope });
    worker = await started;
  }
  await worker.evaluate(() => {
    const sw = globalThis as unknown as {
      shown: { title: string; body: string; data: unknown }[];
      opened: string[];
      registration: { showNotification: unknown };
      clients: { matchAll: unknown; openWindow: unknown };
    };
    sw.shown = [];
    sw.opened = [];
    sw.registration.showNotification = async (title: string, options: { body: string; data: unknown }) => {
      sw.shown.push({ title, body: options.body, data: options.data });
    };
    sw.clients.matchAll = async () => [];
    sw.clients.openWindow = async (url: string) => {
      sw.opened.push(url);
      return null;
    };
  });
  for (const payload of payloads)
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: stage.cloud.httpUrl,
      registrationId,
      data: JSON.stringify(payload),
    });
  const count = () => worker.evaluate(() => (globalThis as unknown as { shown: unknown[] }).shown.length);
  await until(async () => (await count()) === payloads.length, 'each push shown');
  return worker.evaluate(async () => {
    const sw = globalThis as unknown as {
      shown: { title: string; body: string; data: unknown }[];
      opened: string[];
      dispatchEvent(event: Event): boolean;
      ExtendableEvent: new (type: string) => Event;
    };
    const shown: { title: string; body: string; opens: string }[] = [];
    for (const { title, body, data } of sw.shown) {
      // A click as the browser dispatches it, on a notification carrying what the push handler gave it.
      const click = new sw.ExtendableEvent('notificationclick');
      Object.defineProperty(click, 'notification', { value: { data, close: () => undefined } });
      const before = sw.opened.length;
      try {
        sw.dispatchEvent(click);
      } catch {
        // An untrusted event's waitUntil throws once the handler has asked for the window.
      }
      await new Promise((resolve) => setTimeout(resolve, 0));
      for (let turn = 0; sw.opened.length === before && turn < 1000; turn++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      shown.push({ title, body, opens: sw.opened[before] ?? 'nothing' });
    }
    return shown;
  });
}

it("alice turns push on and closes her tab; bob's mentions push to her, titled by the room's name or its code", async () => {
  const alice = await aliceWithStandIn('alicepush');
  const bob = await signedInAtIssuer(stage, 'bobpush');
  const code = await roomOfTwo(bob, alice);
  const named = await createRoom(bob, { name: 'Ops desk' });
  await joinRoom(alice, named);

  // The offer; she turns it on and allows the browser's prompt.
  await alice.getByTestId('push-offer').waitFor();
  await alice.context().grantPermissions(['notifications'], { origin: stage.cloud.httpUrl });
  await alice.getByTestId('push-on').click();
  await alice.getByText('Notifications on').waitFor();
  // A page of the chat's origin that runs no chat (no connection): where her service worker is reached from.
  const blank = await alice.context().newPage();
  await blank.goto(`${stage.cloud.httpUrl}/sw.js`);
  await alice.close();
  await until(async () => !(await connected('alicepush')), "the server saw alice's socket close");

  const pushed = (roomId: string) => () =>
    Promise.resolve(
      stage.cloud.pushService.received.some((p) => (p.payload as { roomId?: string }).roomId === roomId),
    );
  // bob shows the named room (he created it last).
  await say(bob, 'hey @alicepush, the deploy is done');
  await until(pushed(named), 'the push of the named room');
  await joinRoom(bob, code);
  await say(bob, '@alicepush and the rollback plan?');
  await until(pushed(code), 'the push of the unnamed room');
  await stage.cloud.idle();

  const pushes = stage.cloud.pushService.received.map((p) => p.payload);
  expect(pushes).toEqual([
    expect.objectContaining({
      type: 'push',
      reason: 'mention',
      roomId: named,
      roomName: 'Ops desk',
      username: 'bobpush',
      text: 'hey @alicepush, the deploy is done',
    }),
    expect.objectContaining({ reason: 'mention', roomId: code, text: '@alicepush and the rollback plan?' }),
  ]);
  expect(pushes[1]).not.toHaveProperty('roomName');

  // Her browser's service worker shows them: who and where; a click opens the room each names.
  expect(await shownBy(blank, pushes)).toEqual([
    {
      title: 'bobpush mentioned you in #Ops desk',
      body: 'hey @alicepush, the deploy is done',
      opens: `${stage.cloud.httpUrl}/#room=${named}`,
    },
    {
      title: `bobpush mentioned you in room ${code}`,
      body: '@alicepush and the rollback plan?',
      opens: `${stage.cloud.httpUrl}/#room=${code}`,
    },
  ]);
});
