import { browserStage, createRoom, hasText, online, signedInAtIssuer } from '../helpers/browserStage';

/**
 * Named rooms and the directory in the web chat, signed in at the local cloud's development issuer (AuthMode=oidc):
 * alice creates the public room "general"; bob, in another browser, types its name into "Find a public room" and
 * joins it with a click, no code and no link; its header names it. A direct message's name after a reload is
 * tests/rooms/newcomer.browser.test.ts's.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

it('bob finds "general" by typing its name and joins it without a code', async () => {
  const alice = await signedInAtIssuer(stage, 'alice');
  const code = await createRoom(alice, { name: 'general', listed: true });
  await hasText(alice.getByTestId('room-title'), '# general');

  const bob = await signedInAtIssuer(stage, 'bob');
  await bob.getByTestId('directory-input').fill('gen');
  const found = bob.locator(`[data-testid="directory-room"][data-room-id="${code}"]`);
  await found.waitFor();
  await hasText(found, '# general');
  await found.click();
  await bob.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await hasText(bob.getByTestId('room-title'), '# general');
  // In it for real: alice sees him join, and "Your rooms" names it after a reload.
  await alice.locator('[data-testid="member-item"][data-username="bob"]').waitFor();
  await bob.reload();
  await online(bob);
  await hasText(bob.locator(`[data-testid="my-room"][data-room-id="${code}"] button`), 'general');
});
