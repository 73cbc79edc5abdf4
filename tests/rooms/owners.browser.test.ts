import type { Page } from 'playwright-core';
import { browserStage, joinRoom, signInByName } from '../helpers/browserStage';

/**
 * The owner's controls on the chat page, in Chromium against the local cloud: the creator of a room sees them and
 * a guest does not; removing a member and closing the room take people to the lobby with a notice saying why. A
 * Remove asks first, and says the invite link changes: a cancelled one removes nobody.
 */
jest.setTimeout(240_000);

const ROOM_CODE = /^[A-HJ-NP-Z2-9]{8}$/;

const stage = browserStage();

async function person(username: string): Promise<Page> {
  const page = await stage.newPage({ width: 1280, height: 800 });
  await signInByName(page, stage.cloud.httpUrl, username);
  return page;
}

const inLobby = (page: Page) =>
  page.locator('[data-testid="room-code"][data-room-id="lobby"]').waitFor({ state: 'attached' });

it('the creator removes a member and closes the room; each member is told why and lands in the lobby', async () => {
  const owner = await person('olive');
  const bob = await person('bob');
  const carol = await person('carol');
  await owner.getByTestId('create-room-button').click();
  await owner.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = (await owner.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
  for (const guest of [bob, carol]) {
    await joinRoom(guest, code);
  }
  await owner.getByTestId('owner-controls').waitFor();
  expect(await bob.getByTestId('owner-controls').isVisible()).toBe(false);
  expect(await bob.getByTestId('member-remove').count()).toBe(0);

  const bobsItem = owner.locator('[data-testid="member-item"][data-username="bob"]');
  const dialog = owner.getByTestId('confirm-dialog');
  // A click asks first, saying what else changes; Cancel leaves Bob in the room and the link as it was.
  const link = owner.url();
  await bobsItem.getByTestId('member-remove').click();
  await dialog.waitFor();
  expect(await dialog.getByTestId('confirm-text').textContent()).toContain('The invite link changes');
  await dialog.getByTestId('confirm-cancel').click();
  await dialog.waitFor({ state: 'detached' });
  await bob.getByTestId('composer-input').fill('still here');
  await bob.getByTestId('composer-input').press('Enter');
  await owner.getByTestId('message-list').getByText('still here').waitFor();
  expect(await bob.getByTestId('room-code').getAttribute('data-room-id')).toBe(code);
  expect(owner.url()).toBe(link);

  await bobsItem.getByTestId('member-remove').click();
  await dialog.getByTestId('confirm-ok').click();
  await inLobby(bob);
  await bob.getByTestId('toast').filter({ hasText: 'removed you' }).waitFor();
  await bob.getByTestId('message-list').getByText(`The owner of room ${code} removed you`).waitFor();
  await owner.getByTestId('message-list').getByText('You removed bob').waitFor();
  // The removal changed the room's key: the members hear it from the owner, the owner as their own change.
  await carol.getByTestId('message-list').getByText('The owner changed the invite link').waitFor();
  await owner.getByTestId('message-list').getByText('You changed the invite link').waitFor();
  await bobsItem.waitFor({ state: 'detached' });

  await owner.getByTestId('close-room-button').click();
  await inLobby(carol);
  await carol.getByTestId('toast').filter({ hasText: 'closed by its owner' }).waitFor();
  await inLobby(owner);
  await owner.getByTestId('message-list').getByText(`You closed room ${code}`).waitFor();
  // The closed room can't be joined again (by its code alone: the removal made the room's key required).
  await carol.getByTestId('join-input').fill(code);
  await carol.getByTestId('join-button').click();
  await carol
    .getByTestId('join-hint')
    .filter({ hasText: `No room opens to ${code} as given` })
    .waitFor();
  await inLobby(carol);
});

it("the creator keeps the owner's controls after reloading the page, as the server still knows them the owner", async () => {
  const owner = await person('odile');
  await owner.getByTestId('create-room-button').click();
  await owner.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = (await owner.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
  await owner.getByTestId('owner-controls').waitFor();
  await owner.reload();
  await owner.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor({ state: 'attached' });
  await owner.getByTestId('owner-controls').waitFor();
  await owner.getByTestId('close-room-button').waitFor();
});
