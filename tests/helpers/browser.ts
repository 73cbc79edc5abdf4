import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * The Chromium the browser tests drive, found the way users' machines have one: $CHROMIUM_PATH, Debian's
 * /usr/bin/chromium (and Chrome's usual places), then a browser Playwright installed (`npx playwright install
 * chromium`). Throws a message that says how to get one when there is none.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.CHROMIUM_PATH?.trim();
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  const candidates = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  let playwrights: string | undefined;
  try {
    playwrights = chromium.executablePath();
  } catch {
    // playwright-core names the path only on platforms it supports.
  }
  const found = [...candidates, ...(playwrights ? [playwrights] : [])].find((path) => existsSync(path));
  if (found) return found;
  throw new Error(
    [
      'No Chromium for the browser tests. Any one of these works:',
      '  - set CHROMIUM_PATH=/path/to/chromium',
      '  - Debian/Ubuntu: apt-get install -y chromium   (gives /usr/bin/chromium)',
      '  - npx playwright install chromium               (Playwright’s own build)',
      `Looked in: ${[...candidates, playwrights ?? "(Playwright's browser path)"].join(', ')}`,
    ].join('\n'),
  );
}

/**
 * Headless Chromium as every browser test runs it. Without --disable-background-networking Chromium keeps trying
 * hosts this machine's closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
