import {
  browserStage,
  createRoom,
  hasText,
  online,
  openedDirectRoom,
  signedInAtIssuer,
  signedInRoom,
} from '../helpers/browserStage';

/**
 * Named rooms and the directory in the web chat, signed in at the local cloud's development issuer (AuthMode=oidc):
 * alice creates the public room "general"; bob, in another browser, types its name into "Find a public room" and
 * joins it with a click, no code and no link; its header names it. A direct message keeps the other person's name
 * in its header, the tab's title and "Your rooms" after a reload.
 */
jest.setTimeout(120_000);

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

it('keeps a direct message named after the other person after a reload', async () => {
  const { owner: cy, code } = await signedInRoom(stage, ['cy', 'dot']);
  await cy.getByTestId('find-people-input').fill('do');
  const result = cy.getByTestId('find-people-result');
  await result.first().waitFor();
  await result.first().locator('button').click();
  const dm = await openedDirectRoom(cy);
  expect(dm).not.toBe(code);
  await cy.reload();
  await online(cy);
  await cy.locator(`[data-testid="room-code"][data-room-id="${dm}"]`).waitFor();
  await hasText(cy.getByTestId('room-title'), 'dot');
  await hasText(cy.locator(`[data-testid="my-room"][data-room-id="${dm}"] button`), '✉ dot');
  await cy.waitForFunction(() =>
    (globalThis as unknown as { document: { title: string } }).document.title.includes('dot'),
  );
  expect(await cy.title()).not.toContain(dm);
});
