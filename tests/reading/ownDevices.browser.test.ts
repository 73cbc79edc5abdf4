import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  createRoom,
  hasText,
  joinRoom,
  messageRow,
  ONE_PIXEL_PNG,
  SCREENSHOTS,
  say,
  shownRoom,
  signedInAtIssuer,
  signInAtIssuer,
  UI_TIMEOUT_MS,
  wireDevice,
} from '../helpers/browserStage';
import type { Frame } from '../helpers/chatClient';
import { anotherDevice, devicesStage, expectNotReloaded, markNotReloaded, myRoom } from '../helpers/devices';

/**
 * One person on several devices in the web chat at 1280×800, each device a browser context of its own:
 * - a room Dana creates or joins on her laptop shows in her phone's "Your rooms" at once, without a reload, and is
 *   followed there (a message in it counts unread on the phone): the pushed `myroom` frame;
 * - a room Kira leaves on her laptop leaves her phone's "Your rooms" at once, and the phone, showing it, goes to the
 *   lobby: the `myroom` frame's `left`;
 * - Gwen's own profile (display name, status, avatar) shows in her profile form, and her display name on her own new
 *   messages, right after a reload, not only after she changes it: `myrooms` carries it;
 * - Hana's search hit of Ivan's message shows his display name as the message row does (the hit's `authorKey`);
 * - Jules's search box refuses `la*` with the server's own sentence, sending no `search`.
 */
jest.setTimeout(240_000);

const stage = devicesStage();

/** An avatar image that has loaded (a refused or blocked load has no natural size). */
async function loadedImage(page: Page, selector: string) {
  const img = page.locator(selector).first();
  await img.waitFor();
  await page.waitForFunction(
    (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
    await img.elementHandle(),
  );
}

it('a room created or joined on the laptop shows in the phone\'s "Your rooms" at once, followed', async () => {
  const laptop = await signedInAtIssuer(stage, 'dana');
  // A room before the phone connects: its row on the phone says the phone's own first `myrooms` has answered.
  const first = await createRoom(laptop);
  const phone = await anotherDevice(stage, 'dana', { rooms: [first] });
  await markNotReloaded(phone);

  // Created on the laptop, named: the phone lists it by its name.
  const second = await createRoom(laptop, { name: 'Night shift' });
  await hasText(myRoom(phone, second).locator('button'), 'Night shift');

  // Joined on the laptop by its code: the phone lists it, and follows it (Erin's message counts unread there).
  const erin = await wireDevice(stage, 'sub-erin-devices', 'erin');
  const third = String((await erin.expectReply({ action: 'createroom' })).roomId);
  await joinRoom(laptop, third);
  await myRoom(phone, third).waitFor();
  // Dana moves on to her first room on the laptop before Erin speaks: a room shown on any of her devices is read
  // there, and that read reaches the phone too, which would take Erin's message off its count.
  await myRoom(laptop, first).locator('button').click();
  await laptop.locator(`[data-testid="room-code"][data-room-id="${first}"]`).waitFor();
  await erin.expectReply({ action: 'sendmessage', message: 'welcome aboard', clientMsgId: 'w1' });
  await hasText(myRoom(phone, third).getByTestId('unread-badge'), '1');
  await hasText(myRoom(laptop, third).getByTestId('unread-badge'), '1');

  expect(await shownRoom(phone)).toBe('lobby');
  await expectNotReloaded(phone);
  await phone.screenshot({ path: join(SCREENSHOTS, 'other-device-rooms.png') });
  await erin.close();
});

it('a room left on the laptop leaves the phone\'s "Your rooms" at once, and the phone showing it goes to the lobby', async () => {
  const laptop = await signedInAtIssuer(stage, 'kira');
  const kept = await createRoom(laptop, { name: 'Kept' });
  const left = await createRoom(laptop, { name: 'Left' });
  const phone = await anotherDevice(stage, 'kira', { rooms: [left] });
  // The phone shows the room the laptop is about to leave.
  await myRoom(phone, left).locator('button').click();
  await phone.locator(`[data-testid="room-code"][data-room-id="${left}"]`).waitFor();
  await markNotReloaded(phone);

  await laptop.getByTestId('leave-button').click();
  await myRoom(laptop, left).waitFor({ state: 'detached' });
  await myRoom(phone, left).waitFor({ state: 'detached' });
  await phone.locator('[data-testid="room-code"][data-room-id="lobby"]').waitFor({ state: 'attached' });
  // The other room stays listed on both, and the phone was told live, not by a reload.
  await myRoom(phone, kept).waitFor();
  await myRoom(laptop, kept).waitFor();
  await expectNotReloaded(phone);
});

it('shows her own profile in the form and on her own messages right after a reload', async () => {
  const gwen = await signedInAtIssuer(stage, 'gwen');
  const code = await createRoom(gwen);
  await gwen.getByTestId('profile-panel').locator('summary').click();
  await gwen.getByTestId('profile-display-name').fill('Gwen Stacy');
  await gwen.getByTestId('profile-status').fill('On the bridge');
  await gwen.getByTestId('profile-save').click();
  await gwen.getByText('Your rooms see your profile now.').waitFor();
  await gwen
    .getByTestId('profile-avatar-file')
    .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: ONE_PIXEL_PNG });
  await loadedImage(gwen, '[data-testid="profile-avatar-image"]');

  // No message of hers in the room yet: after the reload no backlog carries her profile, only `myrooms` can.
  await gwen.reload();
  await gwen.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await gwen.getByTestId('profile-panel').locator('summary').click();
  await gwen.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { querySelector(s: string): { value?: string } | null } }
      ).document.querySelector('[data-testid="profile-status"]')?.value === 'On the bridge',
  );
  expect(await gwen.getByTestId('profile-display-name').inputValue()).toBe('Gwen Stacy');
  await loadedImage(gwen, '[data-testid="profile-avatar-image"]');

  await say(gwen, 'first words after the reload');
  const row = messageRow(gwen, 'first words after the reload');
  // Her own rows show her display name (their avatar is hidden by design: own messages show none).
  await hasText(row.getByTestId('message-profile'), 'Gwen Stacy');
  await gwen.screenshot({ path: join(SCREENSHOTS, 'own-profile-reloaded.png') });
});

it("a search hit shows its author's display name as the message row does", async () => {
  const hana = await signedInAtIssuer(stage, 'hana');
  const code = await createRoom(hana);

  const ivan = await wireDevice(stage, 'sub-ivan-devices', 'ivan');
  await ivan.expectReply({ action: 'joinroom', roomId: code });
  await ivan.expectReply({ action: 'setprofile', displayName: 'Ivan the Quick' });
  await ivan.expectReply({ action: 'sendmessage', message: 'the lantern is lit', clientMsgId: 'l1' });
  await hasText(messageRow(hana, 'the lantern is lit').getByTestId('message-profile'), 'Ivan the Quick');
  // The fan-out indexes a message after posting it: Ivan searches until the index holds it.
  for (;;) {
    const answer = await ivan.expectReply({ action: 'search', query: 'lantern', roomId: code });
    if ((answer.results as unknown[]).length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  await hana.getByTestId('search-button').click();
  await hana.getByTestId('search-input').fill('lantern');
  await hana.getByTestId('search-submit').click();
  const hit = hana.getByTestId('search-hit');
  await hasText(hit.locator('.search-text'), 'the lantern is lit');
  await hasText(hit.getByTestId('message-profile'), 'Ivan the Quick');
  await hana.screenshot({ path: join(SCREENSHOTS, 'search-hit-profile.png') });
  await ivan.close();
});

it("the search box refuses a prefix too short in the server's words, sending no search", async () => {
  const sent: string[] = [];
  const jules = await stage.newPage({ width: 1280, height: 800 });
  jules.setDefaultTimeout(UI_TIMEOUT_MS);
  jules.on('websocket', (ws) => ws.on('framesent', ({ payload }) => sent.push(String(payload))));
  await signInAtIssuer(stage, jules, 'jules', stage.cloud.httpUrl);
  await createRoom(jules);

  // The server's sentence for `la*`, asked on the wire; the page says the same and sends no search for it.
  const wire = await wireDevice(stage, 'sub-kim-devices', 'kim');
  const refused = (await wire.ask({ action: 'search', query: 'la*' })) as Frame & { message: string };
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  await jules.getByTestId('search-button').click();
  await jules.getByTestId('search-input').fill('la*');
  await jules.getByTestId('search-submit').click();
  await hasText(jules.getByTestId('search-status'), refused.message);
  expect(await jules.getByTestId('search-input').getAttribute('aria-invalid')).toBe('true');
  expect(sent.filter((f) => f.includes('"action":"search"'))).toEqual([]);
  await jules.screenshot({ path: join(SCREENSHOTS, 'search-prefix-refused.png') });
  await wire.close();
});
