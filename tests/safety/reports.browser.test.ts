import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  joinRoom,
  messageRow,
  online,
  roomOfTwo,
  say,
  signedInAtIssuer,
} from '../helpers/browserStage';

/**
 * A room's reports in the web chat (web/reports.js, web/moderation.js), in Chromium against the local cloud, everyone
 * signed in at its development issuer: Bob reports Carol's message; Alice (the owner) and Dave (a moderator) see
 * "Reports (1)" at once; Dave's list survives a reload and shows who reported what and why; Dave dismisses it and
 * Alice's count drops live; Dave's member list offers him nothing on Alice's row, and his menu on Carol's.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

const member = (page: Page, name: string) =>
  page.locator(`[data-testid="member-item"][data-username="${name}"]`);

it('a report reaches the owner and a moderator live; the moderator dismisses it for both', async () => {
  const alice = await signedInAtIssuer(stage, 'alice-rp');
  const bob = await signedInAtIssuer(stage, 'bob-rp');
  const carol = await signedInAtIssuer(stage, 'carol-rp');
  const dave = await signedInAtIssuer(stage, 'dave-rp');
  const code = await roomOfTwo(alice, bob);
  await joinRoom(carol, code);
  await joinRoom(dave, code);

  // Alice makes Dave a moderator from the member list; a plain member has no Reports entry.
  await member(alice, 'dave-rp').getByTestId('member-moderate').click();
  await member(alice, 'dave-rp').getByTestId('member-set-role').click();
  await hasText(dave.getByTestId('reports-count'), '0');
  await hasText(alice.getByTestId('reports-count'), '0');
  expect(await bob.getByTestId('reports-button').isVisible()).toBe(false);

  await say(carol, 'buy followers cheap');
  const reported = messageRow(bob, 'buy followers cheap');
  await reported.hover();
  await reported.getByTestId('report-message').click();
  await bob.getByTestId('report-reason').fill('spam link');
  await bob.getByTestId('report-send').click();
  await hasText(alice.getByTestId('reports-count'), '1');
  await hasText(dave.getByTestId('reports-count'), '1');

  // The list is the server's: after a reload Dave still has it, with who reported what and why.
  await dave.reload();
  await online(dave);
  await hasText(dave.getByTestId('reports-count'), '1');
  await dave.getByTestId('reports-button').click();
  const item = dave.getByTestId('report-item');
  await hasText(item.getByTestId('report-item-text'), 'buy followers cheap');
  await hasText(item.getByTestId('report-item-reason'), 'Why: spam link');
  expect(await item.textContent()).toContain("bob-rp reported carol-rp's message");

  await item.getByTestId('report-dismiss').click();
  await hasText(dave.getByTestId('reports-count'), '0');
  await hasText(alice.getByTestId('reports-count'), '0');
  await dave.getByTestId('reports-empty').waitFor();

  // The moderator's menu: on Carol's row, never on the owner's.
  await member(dave, 'carol-rp').getByTestId('member-moderate').waitFor();
  await member(dave, 'alice-rp').waitFor();
  expect(await member(dave, 'alice-rp').getByTestId('member-moderate').count()).toBe(0);
});
