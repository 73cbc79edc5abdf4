import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  hasText,
  joinRoom,
  messageRow,
  ONE_PIXEL_PNG,
  SCREENSHOTS,
  say,
  signedInAtIssuer,
  signedInRoom,
  UI_TIMEOUT_MS,
  wireDevice,
} from '../helpers/browserStage';

/**
 * Profiles in the web chat (web/profileForm.js, web/profiles.js): Alice, signed in, sets a display name, a status and
 * an avatar (an image she uploads from the "Your profile" form). Bob, in her room, sees them beside her messages live
 * and again after a reload (the join's backlog carries its authors' profiles), and in find people; "Remove avatar"
 * takes the image away live. Alice renames the room and Bob's "Your rooms" relabels it without a reload. Two people
 * showing one name each keep their own profile on their own messages, live and as the backlog gives them. The member
 * list shows a member's display name, status, avatar and owner badge, and a reaction chip names who gave it.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' }, { SendRateLimit: '1000', FrameRateLimit: '100000' });

/** An avatar image that has loaded (a refused or blocked load has no natural size). */
async function loadedImage(page: Page, selector: string) {
  const img = page.locator(selector).first();
  await img.waitFor();
  await page.waitForFunction(
    (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
    await img.elementHandle(),
  );
}

const aliceRow = '[data-testid="message"][data-seq][data-username="alice"]';

it('shows a profile beside messages live and after a reload, in find people, and relabels a renamed room', async () => {
  const { owner: alice, joiner: bob, code } = await signedInRoom(stage, ['alice', 'bob'], UI_TIMEOUT_MS);

  await alice.getByTestId('profile-panel').locator('summary').click();
  await alice.getByTestId('profile-display-name').fill('Alice Liddell');
  await alice.getByTestId('profile-status').fill('Down the hole');
  await alice.getByTestId('profile-save').click();
  await alice.getByTestId('profile-avatar-file').setInputFiles({
    name: 'me.png',
    mimeType: 'image/png',
    buffer: ONE_PIXEL_PNG,
  });
  await loadedImage(alice, '[data-testid="profile-avatar-image"]');
  await say(alice, 'hello bob');

  // Live: the profile pushes reached Bob's page.
  await hasText(bob.locator(`${aliceRow} [data-testid="message-profile"]`).first(), 'Alice Liddell');
  expect(await bob.locator(`${aliceRow} [data-testid="message-profile"]`).first().getAttribute('title')).toBe(
    'Down the hole',
  );
  await loadedImage(bob, `${aliceRow} [data-testid="message-avatar"]`);

  // After a reload: nothing is pushed again; the room's backlog carries its authors' profiles.
  await bob.reload();
  await bob.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await hasText(bob.locator(`${aliceRow} [data-testid="message-profile"]`).first(), 'Alice Liddell');
  await loadedImage(bob, `${aliceRow} [data-testid="message-avatar"]`);
  await bob.screenshot({ path: join(SCREENSHOTS, 'profiles.png') });

  // Find people shows her profile and avatar.
  await bob.getByTestId('find-people-input').pressSequentially('ali', { delay: 40 });
  await hasText(bob.getByTestId('find-people-profile').first(), 'Alice Liddell · Down the hole');
  await loadedImage(bob, '[data-testid="find-people-avatar"]');
  await bob.getByTestId('find-people-input').fill('');

  // "Remove avatar": her messages show her initial again.
  await alice.getByTestId('profile-avatar-remove').click();
  await bob.locator(`${aliceRow} [data-testid="message-avatar"]`).first().waitFor({ state: 'detached' });
  await hasText(bob.locator(`${aliceRow} [data-testid="message-profile"]`).first(), 'Alice Liddell');

  // Alice renames the room she owns: Bob's "Your rooms" shows the new name at once.
  const bobsRow = bob.locator(`[data-testid="my-room"][data-room-id="${code}"] button`);
  await bobsRow.waitFor();
  await alice.evaluate(`window.roomcast.client.setRoom({ name: 'Rabbit hole' }, ${JSON.stringify(code)})`);
  await hasText(bobsRow, 'Rabbit hole');
});

it("keeps two people showing one name apart: each one's profile stays on its own messages", async () => {
  const carl = await signedInAtIssuer(stage, 'carl', UI_TIMEOUT_MS);
  const code = await createRoom(carl, { name: 'twins', listed: true });
  const rowOf = (text: string) =>
    carl.locator('[data-testid="message"][data-seq]').filter({ hasText: text }).first();

  // Sam One writes as "sam" and leaves; Sam Two comes in showing "sam" after him.
  const samOne = await wireDevice(stage, 'sub-sam-one', 'sam');
  await samOne.expectReply({ action: 'joinroom', roomId: code });
  await samOne.expectReply({ action: 'setprofile', displayName: 'Sam One' });
  await samOne.expectReply({ action: 'sendmessage', message: 'first sam', clientMsgId: 's1' });
  await samOne.close();
  const samTwo = await wireDevice(stage, 'sub-sam-two', 'sam');
  await samTwo.expectReply({ action: 'joinroom', roomId: code });
  await samTwo.expectReply({ action: 'setprofile', displayName: 'Sam Two' });
  await samTwo.expectReply({ action: 'sendmessage', message: 'second sam', clientMsgId: 's2' });

  // After a reload the backlog's profiles put each name on its own row.
  await carl.reload();
  await carl.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await hasText(rowOf('first sam').getByTestId('message-profile'), 'Sam One');
  await hasText(rowOf('second sam').getByTestId('message-profile'), 'Sam Two');

  // Sam One, back under another name, changes his profile: his row changes live, Sam Two's does not.
  const back = await wireDevice(stage, 'sub-sam-one', 'samuel');
  await back.expectReply({ action: 'setprofile', displayName: 'Sam Uno' });
  await hasText(rowOf('first sam').getByTestId('message-profile'), 'Sam Uno');
  await hasText(rowOf('second sam').getByTestId('message-profile'), 'Sam Two');
  await Promise.all([samTwo.close(), back.close()]);
});

it('lists a member by display name, status, avatar and owner badge, and a reaction names who gave it', async () => {
  const dana = await signedInAtIssuer(stage, 'dana', UI_TIMEOUT_MS);
  const code = await createRoom(dana, { name: 'tea', listed: true });
  const erin = await signedInAtIssuer(stage, 'erin', UI_TIMEOUT_MS);
  await joinRoom(erin, code);

  await dana.getByTestId('profile-panel').locator('summary').click();
  await dana.getByTestId('profile-display-name').fill('Dana Scully');
  await dana.getByTestId('profile-status').fill('On a case');
  await dana.getByTestId('profile-save').click();
  await dana
    .getByTestId('profile-avatar-file')
    .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG });
  await loadedImage(dana, '[data-testid="profile-avatar-image"]');
  await say(dana, 'tea anyone?');

  // Erin's member list: Dana by her display name (her name in the room beside it), status, avatar, "owner".
  const danaItem = '[data-testid="member-item"][data-username="dana"]';
  const danaRow = erin.locator(danaItem);
  await hasText(danaRow.getByTestId('member-display-name'), 'Dana Scully');
  await hasText(danaRow.getByTestId('member-status'), 'On a case');
  await hasText(danaRow.getByTestId('member-role'), 'owner');
  await loadedImage(erin, `${danaItem} [data-testid="member-avatar"]`);
  expect(await danaRow.locator('.member-name').textContent()).toContain('dana');
  // Erin set no profile: her row shows her name alone, and no badge.
  const erinRow = dana.locator('[data-testid="member-item"][data-username="erin"]');
  await erinRow.waitFor();
  expect(await erinRow.getByTestId('member-display-name').count()).toBe(0);
  expect(await erinRow.getByTestId('member-role').count()).toBe(0);

  // Four others give 👍, then Erin does: the first three are named, the rest counted.
  const seq = Number(await messageRow(dana, 'tea anyone?').getAttribute('data-seq'));
  const fans = [];
  for (const name of ['fox', 'gus', 'hal', 'ivy']) {
    const fan = await wireDevice(stage, `sub-${name}`, name);
    fans.push(fan);
    await fan.expectReply({ action: 'joinroom', roomId: code });
    await fan.expectReply({ action: 'react', seq, reaction: '👍' });
  }
  await messageRow(erin, 'tea anyone?').getByTestId('react-button').filter({ hasText: '👍' }).click();
  const chip = (page: Page) =>
    messageRow(page, 'tea anyone?').locator('[data-testid="reaction-chip"][data-reaction="👍"]');
  await chip(dana).and(dana.locator('[data-count="5"]')).waitFor();
  expect(await chip(dana).getAttribute('title')).toBe('👍 from fox, gus, hal and 2 others');
  expect(await chip(dana).getAttribute('aria-label')).toBe('👍 from fox, gus, hal and 2 others');
  await chip(erin).and(erin.locator('[data-count="5"][aria-pressed="true"]')).waitFor();
  expect(await chip(erin).getAttribute('aria-label')).toBe('👍 from you, fox, gus, hal and 1 other');

  // After a reload the names come from the server (history), not from the live frames.
  await dana.reload();
  await dana.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await chip(dana).and(dana.locator('[data-count="5"]')).waitFor();
  expect(await chip(dana).getAttribute('title')).toBe('👍 from fox, gus, hal and 2 others');
  await erin.reload();
  await erin.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await hasText(erin.locator(danaItem).getByTestId('member-display-name'), 'Dana Scully');
  await chip(erin).focus();
  await erin.screenshot({ path: join(SCREENSHOTS, 'member-profiles.png') });
  await Promise.all(fans.map((fan) => fan.close()));
});
