import { browserStage, peopleInRoom, messageRow as row } from '../helpers/browserStage';

/**
 * A person clicking a reaction chip twenty times in quick succession keeps their connection (issue 45, item 2):
 * reactions have their own budget apart from messages, and the client coalesces rapid toggles of one reaction into
 * at most one request in flight. Before that, a dozen quick clicks gave "Slow down" toasts and then closed the
 * socket ("Too many refused requests"), and the other member saw them leave and come back.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const CLICKS = 20;

it(`${CLICKS} quick clicks on a reaction keep the connection, and both screens agree on the result`, async () => {
  const {
    pages: [alice, bob],
  } = await peopleInRoom(stage, ['alice-rc', 'bob-rc']);
  await alice.locator('[data-testid="member-item"][data-username="bob-rc"]').waitFor({ state: 'attached' });

  await alice.getByTestId('composer-input').fill('who is in for pizza?');
  await alice.getByTestId('composer-input').press('Enter');
  await row(bob, 'who is in for pizza?').waitFor();
  // alice reacts first, so the chip stays on screen (count ≥ 1) however bob's clicks land.
  await row(alice, 'who is in for pizza?').getByTestId('react-button').filter({ hasText: '👍' }).click();
  const bobChip = row(bob, 'who is in for pizza?').locator(
    '[data-testid="reaction-chip"][data-reaction="👍"]',
  );
  await bobChip.and(bob.locator('[data-count="1"]')).waitFor();

  // From here on, every connection state bob's page shows is recorded: a closed socket shows as "reconnecting".
  await bob.evaluate(`(() => {
    const seen = [];
    window.connStates = seen;
    new MutationObserver(() => seen.push(document.body.dataset.conn ?? '')).observe(document.body, {
      attributes: true,
      attributeFilter: ['data-conn'],
    });
  })()`);
  for (let i = 0; i < CLICKS; i += 1) await bobChip.click({ delay: 0 });

  // An even number of toggles: bob ends where he started, not reacting, and alice's count is her own 1.
  const aliceChip = row(alice, 'who is in for pizza?').locator(
    '[data-testid="reaction-chip"][data-reaction="👍"]',
  );
  await bobChip.and(bob.locator('[data-count="1"][aria-pressed="false"]')).waitFor();
  await aliceChip.and(alice.locator('[data-count="1"][aria-pressed="true"]')).waitFor();

  // The connection held: bob's page never left "online", no error toast, and his next message reaches alice.
  expect(await bob.evaluate('window.connStates')).toEqual([]);
  expect(await bob.evaluate('document.body.dataset.conn')).toBe('online');
  expect(await bob.locator('[data-testid="toast"][data-kind="error"]').count()).toBe(0);
  await bob.getByTestId('composer-input').fill('me!');
  await bob.getByTestId('composer-input').press('Enter');
  await row(alice, 'me!').waitFor();
  // alice saw bob stay: no "left" line for him in the room.
  expect(await alice.locator('[data-testid="system-line"].sys-leave', { hasText: 'bob-rc' }).count()).toBe(0);
});
