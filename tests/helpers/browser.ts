import { existsSync } from 'node:fs';
import type { Browser, BrowserContext } from 'playwright-core';

/**
 * Playwright's Chromium, loaded on first use: tests/setup/browserEnvironment.ts imports this module in every Jest
 * worker, and most workers run no browser test (loading playwright-core costs about 0.8 CPU-seconds).
 */
const chromium = () => (require('playwright-core') as typeof import('playwright-core')).chromium;

/**
 * The Chromium the browser tests drive, found the way users' machines have one: $CHROMIUM_PATH, Debian's
 * /usr/bin/chromium-headless-shell, /usr/bin/chromium (and Chrome's usual places), then a browser Playwright
 * installed (`npx playwright install chromium`). Throws a message that says how to get one when there is none.
 *
 * The headless shell comes first: it is Chromium's own build for automation (the same Blink and V8, without the
 * browser's UI), the one Playwright itself runs for headless Chromium, and it does the same browser tests with about a
 * third less CPU than the full browser in headless mode (all 45 pass on either; docs/MEASUREMENTS.md, "CI").
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): string {
  const fromEnv = env.CHROMIUM_PATH?.trim();
  if (fromEnv) {
    if (!exists(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  const candidates = [
    '/usr/bin/chromium-headless-shell',
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ];
  let playwrights: string | undefined;
  try {
    playwrights = chromium().executablePath();
  } catch {
    // playwright-core names the path only on platforms it supports.
  }
  const found = [...candidates, ...(playwrights ? [playwrights] : [])].find((path) => exists(path));
  if (found) return found;
  throw new Error(
    [
      'No Chromium for the browser tests. Any one of these works:',
      '  - set CHROMIUM_PATH=/path/to/chromium',
      '  - Debian: apt-get install -y chromium-headless-shell   (or chromium)',
      '  - npx playwright install chromium               (Playwright’s own build)',
      `Looked in: ${[...candidates, playwrights ?? "(Playwright's browser path)"].join(', ')}`,
    ].join('\n'),
  );
}

/**
 * Headless Chromium's switches for every browser test. Without --disable-background-networking Chromium keeps trying
 * hosts this machine's closed network refuses.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
];

/** Where the browser tests' Jest environment (tests/setup/browserEnvironment.ts) puts its worker's shared Chromium. */
export const SHARED_CHROMIUM = '__roomcastChromium';

/** A Chromium of the caller's own. */
export function launchOwnChromium(): Promise<Browser> {
  return chromium().launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}

/**
 * What every test's browser context starts with unless the test says otherwise: the reduced-motion preference. The
 * page's animations (a message sliding in, a toast, a panel's transition) are cosmetic and web/responsive.css turns them
 * off for anyone who asks; drawing them was about a fifth of the browser tests' CPU (docs/MEASUREMENTS.md, "CI"),
 * and Playwright waits for an animating element to stand still before it clicks. tests/messages/chat.browser.test.ts chats
 * with them on (`reducedMotion: 'no-preference'`), so a page whose animations get in the way still fails a test.
 */
export const TEST_CONTEXT_DEFAULTS = { reducedMotion: 'reduce' } as const;

/**
 * Headless Chromium for one test file: its Jest worker's shared Chromium, seen through a view whose contexts are the
 * file's own and whose close() closes just those (the next file finds the browser as the last found it); outside
 * that environment, a Chromium of its own. Either way contexts start from TEST_CONTEXT_DEFAULTS.
 */
export async function launchChromium(): Promise<Browser> {
  const workers = (globalThis as Record<string, unknown>)[SHARED_CHROMIUM] as Browser | undefined;
  const shared = workers ?? (await launchOwnChromium());
  const contexts = new Set<BrowserContext>();
  const newContext: Browser['newContext'] = async (options) => {
    const context = await shared.newContext({ ...TEST_CONTEXT_DEFAULTS, ...options });
    contexts.add(context);
    context.on('close', () => contexts.delete(context));
    return context;
  };
  const own: Partial<Browser> = {
    newContext,
    newPage: async (options) => (await newContext(options)).newPage(),
    contexts: () => [...contexts],
    close: async () => {
      await Promise.all([...contexts].map((context) => context.close()));
      if (!workers) await shared.close();
    },
  };
  return new Proxy(shared, {
    get: (target, name) => {
      if (name in own) return own[name as keyof Browser];
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
