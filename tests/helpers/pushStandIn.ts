import type { BrowserContext } from 'playwright-core';
import type { browserStage } from './browserStage';

/**
 * A browser context whose page reaches the local cloud's push service stand-in (tools/local/pushService.ts) instead
 * of a real push service: headless Chromium reaches none, so PushManager.subscribe asks the stand-in for the
 * subscription (its endpoint and the P-256 and auth keys it generated and keeps to decrypt with), or (`hangs`) never
 * answers; `__subscribeAsked` says it was called. The notification prompt is one whose person clicks Allow (headless
 * Chromium denies every prompt), and the permission is kept as a browser keeps it, across reloads. Everything else
 * is the product's own code.
 */
export async function pushStandIn(
  stage: ReturnType<typeof browserStage>,
  context: BrowserContext,
  hangs = false,
): Promise<BrowserContext> {
  await context.exposeBinding('__standInSubscribe', (_source, applicationServerKey: string) =>
    stage.cloud.pushService.subscribe(applicationServerKey),
  );
  await context.addInitScript((hangs: boolean) => {
    const page = globalThis as unknown as {
      Notification: { requestPermission(): Promise<string> };
      localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
      PushManager: { prototype: Record<string, unknown> };
      __standInSubscribe(key: string): Promise<unknown>;
      __subscribeAsked: boolean;
    };
    const allowed = 'test.notifications.allowed';
    Object.defineProperty(page.Notification, 'permission', {
      get: () => (page.localStorage.getItem(allowed) ? 'granted' : 'default'),
    });
    page.Notification.requestPermission = async () => {
      page.localStorage.setItem(allowed, 'yes');
      return 'granted';
    };
    let current: unknown = null;
    const standIn = page.__standInSubscribe;
    const manager = page.PushManager.prototype;
    manager.getSubscription = async () => current;
    manager.subscribe = async (options?: { applicationServerKey?: unknown }) => {
      page.__subscribeAsked = true;
      if (hangs) return new Promise(() => undefined);
      const json = (await standIn(String(options?.applicationServerKey))) as { endpoint: string };
      current = {
        endpoint: json.endpoint,
        options: { applicationServerKey: null },
        toJSON: () => json,
        unsubscribe: async () => {
          current = null;
          return true;
        },
      };
      return current;
    };
  }, hangs);
  return context;
}
