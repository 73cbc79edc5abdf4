import { launchChromium } from '../helpers/browser';

/**
 * The browser test files a Jest worker runs share its Chromium (tests/setup/browserEnvironment.ts). What keeps them
 * apart: a file sees only the contexts it opened, and closing its browser closes those and leaves the browser, and
 * every other file's pages, running.
 */
it("closes only the file's own contexts, and the next file finds the browser running", async () => {
  const first = await launchChromium();
  const second = await launchChromium();
  const firstPage = await first.newPage();
  const secondContext = await second.newContext();
  const secondPage = await secondContext.newPage();
  await secondPage.setContent('<p id="kept">still here</p>');
  expect(first.contexts()).toEqual([firstPage.context()]);
  expect(second.contexts()).toEqual([secondContext]);

  await first.close();
  expect(firstPage.isClosed()).toBe(true);
  expect(first.isConnected()).toBe(true);
  expect(await secondPage.textContent('#kept')).toBe('still here');

  const third = await launchChromium();
  expect(third.contexts()).toEqual([]);
  expect(await (await third.newPage()).evaluate(() => 1 + 1)).toBe(2);
  await Promise.all([second.close(), third.close()]);
  expect(secondPage.isClosed()).toBe(true);
});
