import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  joinRoom,
  peopleInRoom,
  person,
  messageRow as row,
  send,
} from '../helpers/browserStage';

/**
 * Pinned messages in the web chat (web/pins.js, web/changes.js), in Chromium against the local cloud: the room's
 * owner pins a message from its actions, both people see it marked and listed in the pins panel of the room's header,
 * one who joins later finds it there too, the other member is offered no Pin, and a delete takes it out of the list.
 */
jest.setTimeout(240_000);

const stage = browserStage();

/** Opens the pins panel from the room's header and returns its list. */
async function pinsList(page: Page) {
  const button = page.getByTestId('pins-button');
  await button.waitFor();
  if (!(await page.getByTestId('pins-panel').isVisible())) await button.click();
  await page.getByTestId('pins-panel').waitFor();
  return page.getByTestId('pins-list');
}

it('the owner pins a message: both see it in the pins list, a newcomer too, and a delete unpins it', async () => {
  const {
    pages: [alice, bob],
    code,
  } = await peopleInRoom(stage, ['alice-pins', 'bob-pins']);

  await send(bob, 'standup moves to 9:30');
  await row(alice, 'standup moves to 9:30').waitFor();
  expect(await alice.getByTestId('pins-button').isVisible()).toBe(false);
  // Only the room's owner is offered Pin.
  await row(bob, 'standup moves to 9:30').hover();
  expect(await row(bob, 'standup moves to 9:30').getByTestId('pin-message').count()).toBe(0);

  await row(alice, 'standup moves to 9:30').hover();
  await row(alice, 'standup moves to 9:30').getByTestId('pin-message').click();
  for (const page of [alice, bob]) {
    await row(page, 'standup moves to 9:30').getByTestId('pinned-mark').waitFor();
    await hasText(page.getByTestId('pins-count'), '1');
    const list = await pinsList(page);
    const item = list.getByTestId('pin-item');
    await hasText(item.locator('.pin-text'), 'standup moves to 9:30');
    expect(await item.textContent()).toContain('pinned by alice-pins');
  }

  // One who joins later finds the pin in the room's header.
  const carol = await person(stage, 'carol-pins');
  await joinRoom(carol, code);
  await hasText(carol.getByTestId('pins-count'), '1');
  await hasText((await pinsList(carol)).locator('.pin-text'), 'standup moves to 9:30');

  // Bob deletes his message: it leaves everyone's pins.
  const del = row(bob, 'standup moves to 9:30').getByTestId('delete-message');
  await row(bob, 'standup moves to 9:30').hover();
  await del.click();
  await del.click();
  for (const page of [alice, bob, carol]) await page.getByTestId('pins-button').waitFor({ state: 'hidden' });
});
