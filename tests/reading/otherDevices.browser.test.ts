import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  joinRoom,
  openedDirectRoom,
  SCREENSHOTS,
  shownRoom,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * A read reaches the person's other devices in the web chat: Alice is signed in on her laptop (device A) and phone
 * (device B), both pages 1280×800 windows, and both list a direct message Bob sends two messages to, each with a
 * badge of 2 and "(2)" in the tab's title. When she opens the DM on the laptop, the phone's badge and title count
 * clear at once, without a reload (a pushed `read`).
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

const badge = (page: Page, roomId: string) =>
  page.locator(`[data-testid="my-room"][data-room-id="${roomId}"] [data-testid="unread-badge"]`);

/** Waits until the page's tab title starts with `prefix` (`counted`), or does not (counting nothing). */
const titleCount = (page: Page, prefix: string, counted: boolean) =>
  page.waitForFunction(
    ([p, yes]) =>
      (globalThis as unknown as { document: { title: string } }).document.title.startsWith(p as string) ===
      yes,
    [prefix, counted] as const,
    { timeout: UI_TIMEOUT_MS },
  );

it("clears a DM's unread badge on device B when device A reads it", async () => {
  const laptop = await signedInAtIssuer(stage, 'alice');
  const bob = await signedInAtIssuer(stage, 'bob');
  // A room they share, so Bob can message her from its member list.
  await laptop.getByTestId('create-room-button').click();
  await laptop.locator('[data-testid="room-code"]:not([data-room-id="lobby"])').waitFor();
  const room = await shownRoom(laptop);
  await joinRoom(bob, room);
  const phone = await signedInAtIssuer(stage, 'alice');
  await phone.locator(`[data-testid="my-room"][data-room-id="${room}"]`).waitFor();

  await bob
    .locator('[data-testid="member-item"][data-username="alice"] [data-testid="member-message"]')
    .click();
  const dm = await openedDirectRoom(bob);
  for (const text of ['are you there?', 'ping me back']) {
    await bob.getByTestId('composer-input').fill(text);
    await bob.getByTestId('composer-input').press('Enter');
  }
  // Both devices count them: the laptop shows the shared room, the phone the lobby.
  for (const device of [laptop, phone]) await hasText(badge(device, dm), '2');
  await titleCount(phone, '(2) ', true);

  // Alice reads the DM on the laptop.
  await laptop.locator(`[data-testid="my-room"][data-room-id="${dm}"] button`).first().click();
  await laptop.locator('[data-testid="message"]').filter({ hasText: 'ping me back' }).waitFor();

  // The phone, still in the lobby, drops the DM's badge and the title's count, without a reload.
  await badge(phone, dm).waitFor({ state: 'detached' });
  await titleCount(phone, '(', false);
  expect(await shownRoom(phone)).toBe('lobby');
  expect(await phone.getByTestId('my-rooms-unread').isHidden()).toBe(true);
  await phone.screenshot({ path: join(SCREENSHOTS, 'other-device-read.png') });
});
