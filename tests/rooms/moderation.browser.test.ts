import { browserStage, hasText, say, signedInRoom } from '../helpers/browserStage';

/**
 * Moderation in the web chat (web/moderation.js), in Chromium against the local cloud: the room's owner mutes Bob
 * from the member list (her Moderate menu stays open while his row is drawn again with a status he sets); Bob's composer says he is muted and until when, and takes nothing; Bob still reads the room;
 * the owner's Unmute gives Bob his composer back.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

it("the owner mutes bob from the member list: bob's composer shows he is muted, and Unmute lifts it", async () => {
  const { owner: alice, joiner: bob } = await signedInRoom(stage, ['alice-mod', 'bob-mod']);
  await say(bob, 'hello before');

  const bobsItem = alice.locator('[data-testid="member-item"][data-username="bob-mod"]');
  await bobsItem.getByTestId('member-moderate').click();
  await bobsItem.getByTestId('mute-10').waitFor();
  // Bob sets a status while Alice's menu is open: his row is drawn again with it, and her menu stays open.
  await bob.getByTestId('profile-panel').locator('summary').click();
  await bob.getByTestId('profile-status').fill('Back at 3');
  await bob.getByTestId('profile-save').click();
  await hasText(bobsItem.getByTestId('member-status'), 'Back at 3');
  await bobsItem.getByTestId('mute-10').click();

  const status = bob.getByTestId('composer-status');
  await status.waitFor();
  expect(await status.textContent()).toMatch(/^You are muted in this room until \d{1,2}:\d{2}/);
  expect(await bob.getByTestId('composer-input').isDisabled()).toBe(true);
  expect(await bob.getByTestId('send-button').isDisabled()).toBe(true);
  // Muted, bob still reads.
  await say(alice, 'you can read this');
  await bob.getByTestId('message-list').getByText('you can read this').waitFor();
  // Bob has no moderation menu: he is a member.
  expect(await bob.getByTestId('member-moderate').count()).toBe(0);

  await bobsItem.getByTestId('member-moderate').click();
  await bobsItem.getByTestId('member-unmute').click();
  await status.waitFor({ state: 'hidden' });
  expect(await bob.getByTestId('composer-input').isDisabled()).toBe(false);
  await say(bob, 'back again');
  await hasText(
    alice.locator('[data-testid="message"][data-seq]').filter({ hasText: 'back again' }).locator('.msg-text'),
    'back again',
  );
});
