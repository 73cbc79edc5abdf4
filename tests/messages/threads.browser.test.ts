import type { Page } from 'playwright-core';
import { browserStage, hasText, peopleInRoom, messageRow as row, send } from '../helpers/browserStage';

/**
 * Threads in the web chat (web/threads.js), in Chromium against the local cloud: bob replies in a thread of alice's
 * message while alice reads the room; alice sees the root's reply count rise and her thread's unread count, the reply
 * stays out of the room's flow (unless also sent to the room), and opening the thread shows the replies and reads them.
 */
jest.setTimeout(240_000);

const stage = browserStage();

/** Replies in the open thread pane, also to the room when asked. */
async function reply(page: Page, text: string, alsoToRoom = false): Promise<void> {
  await page.getByTestId('thread-input').fill(text);
  if (alsoToRoom) await page.getByTestId('thread-also').check();
  await page.getByTestId('thread-send').click();
}

it('bob replies in a thread while alice reads the room: her root counts it and her thread is unread, not her room', async () => {
  const {
    pages: [alice, bob],
  } = await peopleInRoom(stage, ['alice-threads', 'bob-threads']);

  await send(alice, 'who is up for lunch?');
  await row(bob, 'who is up for lunch?').waitFor();
  await row(bob, 'who is up for lunch?').hover();
  await row(bob, 'who is up for lunch?').getByTestId('thread-message').click();
  await bob.getByTestId('thread-pane').waitFor();
  await reply(bob, 'me, at noon');

  // Alice, reading the room: the root says 1 reply, by bob, 1 new for her; the reply is not in the room's flow.
  const summary = row(alice, 'who is up for lunch?').getByTestId('thread-summary');
  await hasText(summary.locator('.thread-count'), '1 reply');
  await hasText(summary.getByTestId('thread-unread'), '1 new');
  expect(await summary.locator('.thread-people').textContent()).toBe('bob-threads');
  await hasText(bob.getByTestId('thread-reply').locator('.msg-text'), 'me, at noon');
  await send(alice, 'marker');
  await row(alice, 'marker').waitFor();
  expect(await row(alice, 'me, at noon').count()).toBe(0);
  expect(await row(bob, 'me, at noon').count()).toBe(0);

  // A reply also sent to the room is in both: the count rises to 2, alice's unread to 2.
  await reply(bob, 'booking a table for 4', true);
  await row(alice, 'booking a table for 4').waitFor();
  await hasText(summary.locator('.thread-count'), '2 replies');
  await hasText(summary.getByTestId('thread-unread'), '2 new');

  // Alice opens the thread: both replies, under her message; her unread is gone.
  await summary.click();
  const pane = alice.getByTestId('thread-pane');
  await hasText(pane.getByTestId('thread-root').locator('.msg-text'), 'who is up for lunch?');
  await pane.getByTestId('thread-reply').nth(1).waitFor();
  expect(await pane.getByTestId('thread-reply').locator('.msg-text').allTextContents()).toEqual([
    'me, at noon',
    'booking a table for 4',
  ]);
  await summary.getByTestId('thread-unread').waitFor({ state: 'detached' });
  await hasText(alice.getByTestId('thread-follow'), 'Unfollow');
});

it('a refused thread reply keeps its text in the box, with a notice saying why', async () => {
  const {
    pages: [owner, bob],
  } = await peopleInRoom(stage, ['olive-threads', 'bob2-threads']);
  await send(owner, 'release notes');
  await row(bob, 'release notes').waitFor();
  await row(bob, 'release notes').hover();
  await row(bob, 'release notes').getByTestId('thread-message').click();
  await bob.getByTestId('thread-pane').waitFor();

  // The owner mutes bob: his reply is refused (MUTED).
  const bobsItem = owner.locator('[data-testid="member-item"][data-username="bob2-threads"]');
  await bobsItem.getByTestId('member-moderate').click();
  await bobsItem.getByTestId('mute-10').click();
  await bob.getByTestId('composer-status').waitFor();
  await reply(bob, 'a long careful answer', true);
  await bob.getByTestId('toast').filter({ hasText: /muted/i }).first().waitFor();
  expect(await bob.getByTestId('thread-input').inputValue()).toBe('a long careful answer');
  expect(await bob.getByTestId('thread-also').isChecked()).toBe(true);
});
