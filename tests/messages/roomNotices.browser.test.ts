import type { Page } from 'playwright-core';
import { browserStage, createRoom, joinRoom, person, say, shownRoom } from '../helpers/browserStage';

/**
 * Notices name rooms in the web chat (web/roomWords.js), in Chromium against the local cloud at 1280×800: Alice owns
 * "#Ops desk", Bob is in it and in a room of his own. Her mention of him is a notice titled with the room's name, and a
 * click on it opens that room; her mute, unmute and ban say the room's name, the mute's end in local words (never a
 * UTC ISO string), and the ban's confirm names the room, not its code.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const DESKTOP = { viewport: { width: 1280, height: 800 } };
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const member = (page: Page, name: string) =>
  page.locator(`[data-testid="member-item"][data-username="${name}"]`);
const toast = (page: Page, text: string | RegExp) => page.getByTestId('toast').filter({ hasText: text });

it('a mention names "#Ops desk" and opens it on click; mute, unmute and ban name it, the mute in local words', async () => {
  const alice = await person(stage, 'alice-notice', DESKTOP);
  const bob = await person(stage, 'bob-notice', DESKTOP);
  const ops = await createRoom(alice, { name: 'Ops desk' });
  await joinRoom(bob, ops);
  await member(alice, 'bob-notice').waitFor();
  await createRoom(bob, { name: 'Bob den' });

  await say(alice, '@bob-notice the deploy is green');
  const mention = toast(bob, 'the deploy is green');
  await mention.waitFor();
  expect(await mention.locator('.toast-title').textContent()).toBe('alice-notice mentioned you in #Ops desk');
  await mention.getByTestId('toast-open').click();
  await bob.locator(`[data-testid="room-code"][data-room-id="${ops}"]`).waitFor();
  expect(await shownRoom(bob)).toBe(ops);

  await member(alice, 'bob-notice').getByTestId('member-moderate').click();
  await member(alice, 'bob-notice').getByTestId('mute-10').click();
  const muted = toast(alice, 'bob-notice is muted in #Ops desk until');
  await muted.waitFor();
  const mutedText = (await muted.locator('.toast-text').textContent()) ?? '';
  expect(mutedText).toMatch(/until \d{1,2}:\d{2}( [AP]M)? (today|tomorrow)\.$/);
  expect(mutedText).not.toMatch(ISO);
  // Bob's composer says it in the same words.
  await bob.locator('[data-testid="composer-status"][data-state="muted"]').waitFor();
  const status = (await bob.getByTestId('composer-status').textContent()) ?? '';
  expect(status).toMatch(/until \d{1,2}:\d{2}( [AP]M)? (today|tomorrow)\./);
  expect(status).not.toMatch(ISO);

  await member(alice, 'bob-notice').getByTestId('member-moderate').click();
  await member(alice, 'bob-notice').getByTestId('member-unmute').click();
  await toast(alice, 'bob-notice may post in #Ops desk again.').waitFor();

  await member(alice, 'bob-notice').getByTestId('member-moderate').click();
  await member(alice, 'bob-notice').getByTestId('member-ban').click();
  await alice.getByTestId('confirm-dialog').waitFor();
  const confirmText = (await alice.getByTestId('confirm-text').textContent()) ?? '';
  expect(confirmText).toContain('bob-notice leaves #Ops desk');
  expect(confirmText).not.toContain(ops);
  await alice.getByTestId('confirm-ok').click();
  await toast(alice, 'You banned bob-notice from #Ops desk.').waitFor();
  // Bob's notice is the server's sentence with the room's name in place of its code.
  await toast(bob, 'You were banned from #Ops desk:').waitFor();
});
