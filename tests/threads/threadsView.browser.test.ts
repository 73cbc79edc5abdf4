import type { Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  hasText,
  joinRoom,
  person,
  messageRow as row,
  send,
} from '../helpers/browserStage';

/**
 * The Threads view in the web chat (web/threadsView.js), in Chromium at 1280×800 against the local cloud: alice
 * replied in a thread of bob's and moved to another room; bob replies again; alice's Threads view lists the thread
 * with its room, its root and 1 unread reply; a click shows its room with the thread's pane open, and the count clears.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const viewport = { width: 1280, height: 800 };

/** Opens the thread pane of the message `text` from its row's "Thread" action. */
async function openThreadOf(page: Page, text: string): Promise<void> {
  await row(page, text).hover();
  await row(page, text).getByTestId('thread-message').click();
  await page.getByTestId('thread-pane').waitFor();
}

/** Replies in the open thread pane and waits for the reply to be in it. */
async function reply(page: Page, text: string): Promise<void> {
  await page.getByTestId('thread-input').fill(text);
  await page.getByTestId('thread-send').click();
  await page.getByTestId('thread-reply').filter({ hasText: text }).waitFor();
}

it('a followed thread with a new reply is listed with 1 unread; a click opens its room and pane and the count clears', async () => {
  const alice = await person(stage, 'alice-tv', { viewport });
  const bob = await person(stage, 'bob-tv', { viewport });
  const code = await createRoom(bob);
  await joinRoom(alice, code);

  await send(bob, 'release on friday?');
  await row(alice, 'release on friday?').waitFor();
  // Alice replies in bob's thread: she follows it, and has seen it.
  await openThreadOf(alice, 'release on friday?');
  await reply(alice, 'works for me');
  // She moves on to a room of her own; bob answers in the thread.
  const other = await createRoom(alice);
  expect(other).not.toBe(code);
  await openThreadOf(bob, 'release on friday?');
  await reply(bob, 'shipping at 10');

  await alice.getByTestId('threads-view-button').click();
  const item = alice.getByTestId('my-thread');
  await hasText(item.getByTestId('my-thread-unread'), '1');
  expect(await item.count()).toBe(1);
  expect(await item.getByTestId('my-thread-room').textContent()).toBe(code);
  expect(await item.locator('.my-thread-text').textContent()).toBe('release on friday?');
  await hasText(item.locator('.my-thread-summary'), '2 replies · alice-tv, bob-tv');

  await item.locator('.my-thread-open').click();
  await alice.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  const pane = alice.getByTestId('thread-pane');
  await hasText(pane.getByTestId('thread-root').locator('.msg-text'), 'release on friday?');
  await pane.getByTestId('thread-reply').filter({ hasText: 'shipping at 10' }).waitFor();
  await item.getByTestId('my-thread-unread').waitFor({ state: 'detached' });
});
