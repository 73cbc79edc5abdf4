import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  SCREENSHOTS,
  shownRoom,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * One person on two devices in the web chat at 1280×800 (docs/DECISIONS.md, "One person, many devices"): Alice's
 * laptop (device A) mutes a room, and her phone (device B), open in another browser profile, marks the room muted
 * under "Your rooms" at once, without a reload; a later "mentions only" on the laptop shows in the phone's choice for
 * the room it has open. Her display name and status saved on the laptop fill the phone's profile form at once too.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

const row = (page: Page, roomId: string) => page.locator(`[data-testid="my-room"][data-room-id="${roomId}"]`);

it("shows device A's mute and profile change on device B without a reload", async () => {
  const laptop = await signedInAtIssuer(stage, 'alice');
  const room = await createRoom(laptop);
  const phone = await signedInAtIssuer(stage, 'alice');
  await row(phone, room).waitFor();
  expect(await row(phone, room).getByTestId('muted-mark').count()).toBe(0);
  // Nothing reloads from here on: a reload would read the choices anew and prove nothing.
  const loads = { phone: 0 };
  phone.on('load', () => loads.phone++);

  // The laptop mutes the room it shows; the phone, in the lobby, marks it muted.
  await laptop.getByTestId('room-notify-select').selectOption('mute');
  await row(laptop, room).getByTestId('muted-mark').waitFor();
  await row(phone, room).getByTestId('muted-mark').waitFor();
  expect(await shownRoom(phone)).toBe('lobby');

  // The phone opens the room: its choice reads "mute", kept by the server. The laptop changes it to mentions only.
  await row(phone, room).locator('button').first().click();
  await phone.locator(`[data-testid="room-code"][data-room-id="${room}"]`).waitFor();
  expect(await phone.getByTestId('room-notify-select').inputValue()).toBe('mute');
  await laptop.getByTestId('room-notify-select').selectOption('mentions');
  await phone.waitForFunction(
    () =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { value: string } | null };
        }
      ).document.querySelector('[data-testid="room-notify-select"]')?.value === 'mentions',
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
  await row(phone, room).getByTestId('muted-mark').waitFor({ state: 'detached' });

  // The laptop saves a display name and a status; the phone's profile form shows them.
  await laptop.getByTestId('profile-panel').locator('summary').click();
  await laptop.getByTestId('profile-display-name').fill('Alice on the go');
  await laptop.getByTestId('profile-status').fill('Back at 3');
  await laptop.getByTestId('profile-save').click();
  await phone.getByTestId('profile-panel').locator('summary').click();
  await phone.waitForFunction(
    () =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { value: string } | null };
        }
      ).document.querySelector('[data-testid="profile-status"]')?.value === 'Back at 3',
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
  expect(await phone.getByTestId('profile-display-name').inputValue()).toBe('Alice on the go');
  expect(loads.phone).toBe(0);
  await phone.screenshot({ path: join(SCREENSHOTS, 'other-device-choices.png') });
});
