import type { Page } from 'playwright-core';
import { type BrowserStage, browserStage, signInAtIssuer } from './browserStage';

/**
 * The stage of a browser test file about one person on several devices: sign-in at the development issuer, so each
 * device of a name is the same person (one `sub`), and the per-connection send and frame limits raised over their
 * defaults so the pages' and wire devices' frames of a whole file are never refused for a rate.
 * Called from the top of the file.
 */
export const devicesStage = (): BrowserStage =>
  browserStage({ AuthMode: 'oidc' }, { SendRateLimit: '1000', FrameRateLimit: '100000' });

/** The row of `roomId` in the page's "Your rooms". */
export const myRoom = (page: Page, roomId: string) =>
  page.locator(`[data-testid="my-room"][data-room-id="${roomId}"]`);

/**
 * Another device of `username`: a page in a new browser profile (1280×800 unless `viewport`) signed in at the issuer,
 * once its "Your rooms" lists each of `rooms` (in the DOM: a phone's list is in its closed drawer), which says its own
 * first `myrooms` has answered.
 */
export async function anotherDevice(
  stage: BrowserStage,
  username: string,
  options: { viewport?: { width: number; height: number }; rooms?: string[] } = {},
): Promise<Page> {
  const page = await stage.newPage(options.viewport ?? { width: 1280, height: 800 });
  await signInAtIssuer(stage, page, username, stage.cloud.httpUrl);
  for (const roomId of options.rooms ?? []) await myRoom(page, roomId).waitFor({ state: 'attached' });
  return page;
}

/** Marks each page as it is now: a reload would lose the mark, which `expectNotReloaded` reads. */
export async function markNotReloaded(...pages: Page[]): Promise<void> {
  for (const page of pages)
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
}

/** Fails unless each page still has the mark `markNotReloaded` set: it was told what it shows live, not by a reload. */
export async function expectNotReloaded(...pages: Page[]): Promise<void> {
  for (const page of pages)
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
}
