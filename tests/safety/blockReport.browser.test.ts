import { browserStage, hasText, peopleInRoom, messageRow as row, send } from '../helpers/browserStage';

/**
 * Blocking and reporting in the web chat (web/safety.js, web/changes.js), in Chromium against the local cloud: Alice
 * blocks Bob from one of his messages and his messages disappear from her view (those he sends after too), while
 * Carol still sees them; Carol reports one of Bob's messages with a reason and Alice, the room's owner, sees the
 * report arrive with the message's text.
 */
jest.setTimeout(240_000);

const stage = browserStage();

it('alice blocks bob and his messages leave her view; carol reports one and alice, the owner, sees it', async () => {
  const {
    pages: [alice, bob, carol],
  } = await peopleInRoom(stage, ['alice-block', 'bob-block', 'carol-block']);

  await send(bob, 'buy cheap watches');
  await row(alice, 'buy cheap watches').waitFor();
  await row(alice, 'buy cheap watches').hover();
  await row(alice, 'buy cheap watches').getByTestId('block-author').click();
  await row(alice, 'buy cheap watches').waitFor({ state: 'hidden' });
  await hasText(alice.getByTestId('blocked-count'), '1');

  // What Bob sends next never shows for Alice; Carol sees it, and Alice sees Carol.
  await send(bob, 'really cheap watches');
  await row(carol, 'really cheap watches').waitFor();
  await send(carol, 'carol is here');
  await row(alice, 'carol is here').waitFor();
  expect(await row(alice, 'really cheap watches').isVisible()).toBe(false);
  expect(await row(alice, 'buy cheap watches').isVisible()).toBe(false);

  // Carol reports one of Bob's messages: Alice, the room's owner, is shown the report with its text.
  await row(carol, 'really cheap watches').hover();
  await row(carol, 'really cheap watches').getByTestId('report-message').click();
  await carol.getByTestId('report-reason').fill('spam');
  await carol.getByTestId('report-send').click();
  const notice = alice.getByTestId('report-notice');
  await notice.waitFor();
  expect(await notice.textContent()).toContain('really cheap watches');
  expect(await notice.textContent()).toContain('carol-block');
  expect(await notice.textContent()).toContain('spam');
});
