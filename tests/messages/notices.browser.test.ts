import type { Page } from 'playwright-core';
import { browserStage, hasText, say, shownRoom, signedInRoom, UI_TIMEOUT_MS } from '../helpers/browserStage';

/**
 * Notices in the web chat (web/mentions.js), people signed in at the local cloud's development issuer: Bob reads a
 * direct message with Alice while she names him in room A, which his page follows. He gets the notice at once and
 * room A's "@", and the tab's title and the menu button count the unread message. He mutes room A: her next mention
 * there raises no notice but still counts as unread (in the title only what names him), and the choice is still his
 * after a reload.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** Opens a direct message with `name` from the member list of the room on screen; its room code. */
async function messagePrivately(page: Page, name: string): Promise<string> {
  const before = await shownRoom(page);
  await page
    .locator(`[data-testid="member-item"][data-username="${name}"] [data-testid="member-message"]`)
    .click();
  await page.locator(`[data-testid="room-code"][data-room-id]:not([data-room-id="${before}"])`).waitFor();
  return shownRoom(page);
}

it('a mention in room A reaches bob reading a DM as a notice and "@"; a muted room counts unread silently, in the title only mentions', async () => {
  const {
    owner: alice,
    joiner: bob,
    code: roomA,
  } = await signedInRoom(stage, ['alice', 'bob'], UI_TIMEOUT_MS);
  const dm = await messagePrivately(bob, 'alice');
  await say(bob, 'quick question');
  const roomARow = bob.locator(`[data-testid="my-room"][data-room-id="${roomA}"]`);
  await roomARow.waitFor();

  // Alice, still in room A, names him there.
  await say(alice, '@bob the deploy is green');
  const title = `alice mentioned you in room ${roomA}`;
  await bob.locator('[data-testid="toast"]', { hasText: title }).waitFor();
  await bob.locator('[data-testid="toast"]', { hasText: 'the deploy is green' }).waitFor();
  await roomARow.getByTestId('mention-badge').waitFor();
  await hasText(roomARow.getByTestId('unread-badge'), '1');
  // The tab's title and the menu button count it (the DM on screen has nothing unread).
  await bob.waitForFunction(() =>
    (globalThis as unknown as { document: { title: string } }).document.title.startsWith('(1) '),
  );
  await hasText(bob.getByTestId('menu-unread'), '1');
  expect(await shownRoom(bob)).toBe(dm);

  // He opens room A (read: the counts go) and mutes it, then goes back to the DM.
  await roomARow.locator('button').first().click();
  await bob.locator(`[data-testid="room-code"][data-room-id="${roomA}"]`).waitFor();
  await bob.getByTestId('room-notify-select').selectOption('mute');
  await roomARow.getByTestId('muted-mark').waitFor();
  await bob.locator(`[data-testid="my-room"][data-room-id="${dm}"] button`).first().click();
  await bob.locator(`[data-testid="room-code"][data-room-id="${dm}"]`).waitFor();
  // He dismisses the notices on screen (their ×: at one instant, as one that times out meanwhile goes by itself), so
  // that any on screen after her next mention is new.
  await bob.getByRole('button', { name: 'Dismiss notification' }).evaluateAll((closes) => {
    for (const close of closes) (close as unknown as { click(): void }).click();
  });
  await bob.locator('[data-testid="toast"]').first().waitFor({ state: 'detached' });

  await say(alice, '@bob one more thing');
  // Counted as unread, in the room's badge and the title, and no notice.
  await hasText(roomARow.getByTestId('unread-badge'), '1');
  await bob.waitForFunction(() =>
    (globalThis as unknown as { document: { title: string } }).document.title.startsWith('(1) '),
  );
  await say(alice, 'a plain line after it'); // delivered after the mention: a notice would be on screen by now
  await hasText(roomARow.getByTestId('unread-badge'), '2');
  expect(await bob.locator('[data-testid="toast"]', { hasText: 'one more thing' }).count()).toBe(0);
  // The muted room's plain line counts on its own row only: the title and the menu button count what names him.
  expect(await bob.title()).toMatch(/^\(1\) /);
  await hasText(bob.getByTestId('menu-unread'), '1');

  // Kept across a reload: room A still shows muted, and its choice reads "mute" when opened.
  await bob.reload();
  await bob.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  await roomARow.getByTestId('muted-mark').waitFor();
  await roomARow.locator('button').first().click();
  await bob.locator(`[data-testid="room-code"][data-room-id="${roomA}"]`).waitFor();
  expect(await bob.getByTestId('room-notify-select').inputValue()).toBe('mute');
});
