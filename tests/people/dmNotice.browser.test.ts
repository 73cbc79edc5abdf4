import { join } from 'node:path';
import {
  browserStage,
  hasText,
  SCREENSHOTS,
  say,
  shownRoom,
  signedInRoom,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * A direct message reaches the other person while the page is open (web/myrooms.js, web/dmHeader.js), two people
 * signed in at the local cloud's development issuer: when Ben messages Ana, her "Your rooms" lists the conversation
 * at once with a notice, no reload; his words show as its unread badge; each side's header names the other person,
 * never the room's code, and offers no invite.
 */
jest.setTimeout(240_000);

/** The page follows the conversation at once on the notice (`subscribe`): a generous bound for a loaded machine. */
const BADGE_WITHIN_MS = 25_000;
const stage = browserStage({ AuthMode: 'oidc' });

it('ana sees the conversation ben opens with her at once, then his words as its badge, each header naming the other', async () => {
  const { owner: ana, joiner: ben } = await signedInRoom(stage, ['ana', 'ben'], UI_TIMEOUT_MS);
  // Ana's tab is in the background with notifications allowed: the system notifications it shows are recorded.
  await ana.evaluate(`(() => {
    window.shown = [];
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    window.Notification = class {
      static permission = 'granted';
      constructor(title, options) {
        window.shown.push(title + ': ' + options.body);
      }
      addEventListener() {}
    };
  })()`);

  await ben
    .locator('[data-testid="member-item"][data-username="ana"] [data-testid="member-message"]')
    .click();
  await ben.locator('[data-testid="room-code"][data-room-id]').filter({ hasText: '✉ ana' }).waitFor();
  const dmRoom = await shownRoom(ben);
  expect(dmRoom).toHaveLength(12);
  // His header names Ana, not the code, and offers no invite (nobody else can join).
  await hasText(ben.getByTestId('room-title'), 'ana', UI_TIMEOUT_MS);
  expect(await ben.getByTestId('invite-code').isVisible()).toBe(false);

  // Ana, without a reload, is told and finds the conversation in her rooms.
  const row = ana.locator(`[data-testid="my-room"][data-room-id="${dmRoom}"]`);
  await row.waitFor();
  await hasText(row.locator('button'), '✉ ben', UI_TIMEOUT_MS);
  // And, her tab hidden, a system notification says so, once.
  expect(await ana.evaluate('window.shown')).toEqual([
    'New direct message: ben opened a direct conversation with you.',
  ]);
  await ana.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => false })`);
  await ana.locator('.toast', { hasText: 'ben opened a direct conversation with you' }).waitFor();

  // His words show as its unread badge, still without a reload.
  await say(ben, 'got a minute?');
  await say(ben, 'about tomorrow');
  await hasText(row.getByTestId('unread-badge'), '2', BADGE_WITHIN_MS);
  await ana.screenshot({ path: join(SCREENSHOTS, 'dm-notice.png') });

  // She opens it: her header names Ben.
  await row.locator('button').click();
  await ana.locator(`[data-testid="room-code"][data-room-id="${dmRoom}"]`).waitFor();
  await hasText(ana.getByTestId('room-title'), 'ben', UI_TIMEOUT_MS);
  await hasText(ana.getByTestId('room-code'), '✉ ben', UI_TIMEOUT_MS);
  await ana.locator('[data-testid="message-list"] .msg-text', { hasText: 'about tomorrow' }).waitFor();
});
