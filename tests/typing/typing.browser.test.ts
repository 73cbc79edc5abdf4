import type { Page } from 'playwright-core';
import { browserStage, peopleInRoom, UI_TIMEOUT_MS } from '../helpers/browserStage';

/**
 * Typing indicators in the web chat (web/typing.js): what one person types shows under the other's message list as
 * "alice is typing…", never under her own, and ends when she sends or clears the composer.
 */
jest.setTimeout(240_000);

const stage = browserStage();

const indicator = (page: Page) => page.getByTestId('typing-indicator');

async function shows(page: Page, text: string, timeout = UI_TIMEOUT_MS): Promise<void> {
  await page
    .locator(`[data-testid="typing-indicator"]`)
    .filter({ hasText: text === '' ? /^$/ : text })
    .waitFor({ timeout });
}

/** Well inside the 7 s a heartbeat shows (5 s interval + 2 s): an end seen sooner came from the stop. */
const STOP_SEEN_WITHIN_MS = 3000;

it('bob sees "alice is typing…" while she types, and it ends when she sends or clears the composer', async () => {
  const {
    pages: [alice, bob],
  } = await peopleInRoom(stage, ['alice', 'bob']);
  await alice.locator('[data-testid="member-item"][data-username="bob"]').waitFor();

  await alice.getByTestId('composer-input').pressSequentially('hello b', { delay: 30 });
  await shows(bob, 'alice is typing…');
  expect(await indicator(alice).textContent()).toBe('');

  await alice.getByTestId('composer-input').press('Enter');
  await bob.locator('[data-testid="message"][data-seq]').filter({ hasText: 'hello b' }).waitFor();
  await shows(bob, '', STOP_SEEN_WITHIN_MS);

  // Typing again right after a send shows at once; clearing the composer ends it for bob.
  await alice.getByTestId('composer-input').pressSequentially('one more', { delay: 30 });
  await shows(bob, 'alice is typing…');
  await alice.getByTestId('composer-input').fill('');
  await shows(bob, '', STOP_SEEN_WITHIN_MS);
  expect(await indicator(alice).textContent()).toBe('');
});
