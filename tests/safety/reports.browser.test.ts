import type { Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  hasText,
  joinRoom,
  messageRow,
  online,
  roomOfTwo,
  say,
  shownRoom,
  signedInAtIssuer,
  wireDevice,
} from '../helpers/browserStage';

/**
 * A room's reports in the web chat (web/reports.js, web/moderation.js), in Chromium against the local cloud, everyone
 * signed in at its development issuer: Bob reports Carol's message; Alice (the owner) and Dave (a moderator) see
 * "Reports (1)" at once; Dave's list survives a reload and shows who reported what and why; Dave dismisses it and
 * Alice's count drops live; Dave's member list offers him nothing on Alice's row, and his menu on Carol's. An owner
 * reading another room is told of a report in a notice naming the room by its name ("#Night market"), whose click
 * opens that room. The pages are 1280×800 (signedInAtIssuer).
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

it("the owner's notice of a report names the room by its name, and a click on it opens that room", async () => {
  const erin = await signedInAtIssuer(stage, 'erin-rp');
  const market = await createRoom(erin, { name: 'Night market' });
  const gail = await wireDevice(stage, 'gail-rp', 'gail-rp');
  const finn = await wireDevice(stage, 'finn-rp', 'finn-rp');
  try {
    await gail.expectReply({ action: 'joinroom', roomId: market });
    await finn.expectReply({ action: 'joinroom', roomId: market });
    const sent = await gail.expectReply({ action: 'sendmessage', message: 'cheap lanterns, dm me' });
    await messageRow(erin, 'cheap lanterns, dm me').waitFor();
    // Erin reads another room of hers when the report comes.
    const other = await createRoom(erin);

    await finn.expectReply({ action: 'report', roomId: market, seq: sent.seq, reason: 'spam' });
    const notice = erin.getByTestId('report-notice');
    await hasText(notice.locator('.toast-title'), 'A message in #Night market was reported');
    expect(await notice.locator('.toast-text').textContent()).toBe(
      '“cheap lanterns, dm me” by gail-rp, reported by finn-rp: spam',
    );
    expect(await shownRoom(erin)).toBe(other);

    await notice.getByTestId('toast-open').click();
    await erin.locator(`[data-testid="room-code"][data-room-id="${market}"]`).waitFor();
    await hasText(erin.getByTestId('room-title'), '# Night market');
    await messageRow(erin, 'cheap lanterns, dm me').waitFor();
  } finally {
    await Promise.all([gail.close(), finn.close()]);
  }
});
