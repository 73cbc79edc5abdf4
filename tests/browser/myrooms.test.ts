import { join } from 'node:path';
import { browserStage, hasText, SCREENSHOTS, say, shownRoom, signedInRoom } from '../helpers/browserStage';

/**
 * Direct messages and "Your rooms" in the web chat (web/myrooms.js), two people signed in at the local cloud's
 * development issuer (AuthMode=oidc): Ben messages Ana from the member list of a room they share, Ana finds the
 * conversation in her rooms with its unread badge after a reload, opens it, and the badge goes.
 */
jest.setTimeout(120_000);

const UI_TIMEOUT_MS = 20_000;
const stage = browserStage({ AuthMode: 'oidc' });

it('messages a member privately, and the other finds it with its unread count', async () => {
  const { owner: ana, joiner: ben, code } = await signedInRoom(stage, ['ana', 'ben'], UI_TIMEOUT_MS);

  // Ben's member list offers to message Ana; he does, and is in their direct room.
  await ben
    .locator('[data-testid="member-item"][data-username="ana"] [data-testid="member-message"]')
    .click();
  await ben.waitForFunction(
    (c) =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { dataset: { roomId?: string } } | null };
        }
      ).document.querySelector('[data-testid="room-code"]')?.dataset.roomId?.length === c,
    12,
  );
  const dmRoom = await shownRoom(ben);
  await say(ben, 'just between us');
  await say(ben, 'are you free later?');

  // Ana reloads (a reconnect): her rooms list the conversation with Ben, two unread.
  await ana.reload();
  await ana.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  const row = ana.locator(`[data-testid="my-room"][data-room-id="${dmRoom}"]`);
  await row.waitFor();
  await hasText(row.locator('button'), '✉ ben', UI_TIMEOUT_MS);
  await hasText(row.getByTestId('unread-badge'), '2', UI_TIMEOUT_MS);
  await ana.screenshot({ path: join(SCREENSHOTS, 'myrooms-unread.png') });

  // She opens it: the messages are there, and the badge is gone, for good (after another reload too).
  await row.locator('button').click();
  await ana.locator(`[data-testid="room-code"][data-room-id="${dmRoom}"]`).waitFor();
  await ana.locator('[data-testid="message-list"] .msg-text', { hasText: 'are you free later?' }).waitFor();
  await ana
    .locator(`[data-testid="my-room"][data-room-id="${dmRoom}"] [data-testid="unread-badge"]`)
    .waitFor({
      state: 'detached',
    });
  await ana.waitForTimeout(5500); // a read position waiting out markRead's interval goes out
  await ana.reload();
  await ana.locator(`[data-testid="my-room"][data-room-id="${code}"]`).waitFor();
  expect(
    await ana
      .locator(`[data-testid="my-room"][data-room-id="${dmRoom}"] [data-testid="unread-badge"]`)
      .count(),
  ).toBe(0);
});
