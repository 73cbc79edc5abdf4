import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  roomOfTwo,
  say,
  signedInAtIssuer,
  signedInRoom,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * Moderation walked in the web chat (web/moderation.js, web/changes.js) as people do it, in Chromium against the
 * local cloud, everyone signed in at its development issuer, the word filter set to refuse one word:
 * - ban: the owner bans Bob from the member list; Bob is told and is in the lobby; neither the old link nor the new
 *   one lets him back in, on any of his devices; the owner's Unban lets him in again with the current link;
 * - slow mode: the owner sets it; Bob's composer says it; his second message within the interval is refused on the
 *   message itself with the wait, and nobody else sees it; the owner is not bound;
 * - roles: the owner makes Carol a moderator; she gets the moderation menu and Delete on Bob's message (everyone sees
 *   it removed by a moderator), mutes Bob, and is offered nothing on the owner's row;
 * - the word filter: a message with the listed word is refused on the message itself and reaches nobody.
 */
jest.setTimeout(240_000);

const FILTERED_WORD = 'darn';
const stage = browserStage({ AuthMode: 'oidc' }, { FilterWords: FILTERED_WORD, FilterMode: 'refuse' });

const member = (page: Page, name: string) =>
  page.locator(`[data-testid="member-item"][data-username="${name}"]`);

const row = (page: Page, text: string) =>
  page.locator('[data-testid="message"]').filter({ has: page.locator('.msg-text', { hasText: text }) });

/** Opens the member's Moderate menu in `page` and picks `item`. */
async function moderate(page: Page, name: string, item: string): Promise<void> {
  await member(page, name).getByTestId('member-moderate').click();
  await member(page, name).getByTestId(item).click();
}

/** Sends `text` from the composer without waiting for it to be stored (it may be refused). */
async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
}

const toast = (page: Page, text: string | RegExp) => page.getByTestId('toast').filter({ hasText: text });

/** The page is in the room (its header shows the code). */
const inRoom = (page: Page, code: string) =>
  page.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();

it("the owner bans bob: he is out and can't come back by any link on any device until unbanned", async () => {
  const { owner: alice, joiner: bob, code } = await signedInRoom(stage, ['alice', 'bob']);
  const oldLink = alice.url();
  expect(oldLink).toContain(`room=${code}`);

  await moderate(alice, 'bob', 'member-ban');
  await alice.getByTestId('confirm-dialog').waitFor();
  expect(await alice.getByTestId('confirm-text').textContent()).toContain("can't join it again");
  await alice.getByTestId('confirm-ok').click();
  await member(alice, 'bob').waitFor({ state: 'detached' });
  await toast(alice, 'You banned bob').waitFor();

  // Bob is told, and is in the lobby.
  await toast(bob, `You were banned from room ${code}`).waitFor();
  await inRoom(bob, 'lobby');

  // The old link: refused, and he stays in the lobby.
  await bob.goto(oldLink);
  await toast(bob, `You are banned from room ${code}`).waitFor();
  await inRoom(bob, 'lobby');

  // The new link (the owner's address changed with the ban), on another device of his: refused too, by who he is.
  const newLink = alice.url();
  expect(newLink).not.toBe(oldLink);
  const bobsPhone = await signedInAtIssuer(stage, 'bob');
  await bobsPhone.goto(newLink);
  await toast(bobsPhone, `You are banned from room ${code}`).waitFor();
  await inRoom(bobsPhone, 'lobby');
  expect(await member(alice, 'bob').count()).toBe(0);

  // Unbanned by name under the member list, he joins with the current link.
  await alice.getByTestId('unban-toggle').click();
  await alice.getByTestId('unban-name').fill('bob');
  await alice.getByTestId('unban-button').click();
  await toast(alice, "bob may join again with the room's current link").waitFor();
  await bobsPhone.goto(alice.url());
  await inRoom(bobsPhone, code);
  await say(bobsPhone, 'back in');
  await row(alice, 'back in').waitFor();
});

it("slow mode: bob's composer says it, his second message within the interval is refused on screen, the owner is free", async () => {
  const { owner: alice, joiner: bob } = await signedInRoom(stage, ['alice2', 'bob2']);
  await alice.getByTestId('slow-mode-select').selectOption('10');
  await toast(alice, 'Slow mode: one message every 10 s.').waitFor();

  await hasText(bob.getByTestId('composer-status'), 'Slow mode: one message every 10 s.');
  // The owner is not bound: no line in her composer.
  expect(await alice.getByTestId('composer-status').isVisible()).toBe(false);

  await say(bob, 'first in slow mode');
  await send(bob, 'second too soon');
  const refused = row(bob, 'second too soon');
  await refused.and(bob.locator('[data-status="failed"]')).waitFor();
  expect(await refused.locator('.msg-failure').textContent()).toMatch(
    /^Not delivered: This room is in slow mode: one message every 10 s\. Wait \d+ s, then send again\./,
  );
  expect(await refused.getByTestId('retry-message').isVisible()).toBe(true);

  // The owner sends twice at once, both stored; bob sees them and never the refused one.
  await say(alice, 'owner one');
  await say(alice, 'owner two');
  await row(bob, 'owner two').waitFor();
  await row(alice, 'first in slow mode').waitFor();
  expect(await row(alice, 'second too soon').count()).toBe(0);
});

it("roles: carol made moderator deletes bob's message for everyone and mutes him, and can't act on the owner", async () => {
  const alice = await signedInAtIssuer(stage, 'alice3');
  const bob = await signedInAtIssuer(stage, 'bob3');
  const carol = await signedInAtIssuer(stage, 'carol3');
  const code = await roomOfTwo(alice, bob);
  await carol.getByTestId('join-input').fill(code);
  await carol.getByTestId('join-button').click();
  await inRoom(carol, code);
  await say(bob, 'spam from bob');
  await row(carol, 'spam from bob').and(carol.locator('[data-seq]')).waitFor();

  // A member: no moderation menu, no Delete on others' messages.
  await member(carol, 'bob3').waitFor();
  expect(await member(carol, 'bob3').getByTestId('member-moderate').count()).toBe(0);
  await row(carol, 'spam from bob').hover();
  expect(await row(carol, 'spam from bob').getByTestId('delete-message').count()).toBe(0);

  await moderate(alice, 'carol3', 'member-set-role');
  await hasText(member(alice, 'carol3').getByTestId('member-role'), 'mod');
  await hasText(member(bob, 'carol3').getByTestId('member-role'), 'mod');
  // Carol now has the tools: the menu on bob, and Delete on his message already on screen.
  await member(carol, 'bob3').getByTestId('member-moderate').waitFor();
  await row(carol, 'spam from bob').hover();
  const del = row(carol, 'spam from bob').getByTestId('delete-message');
  await del.click();
  await del.click(); // "Delete? Click again"
  for (const page of [alice, bob, carol])
    await page.getByTestId('tombstone').filter({ hasText: 'Message removed by a moderator' }).waitFor();
  expect(await row(alice, 'spam from bob').count()).toBe(0);

  await moderate(carol, 'bob3', 'mute-10');
  await toast(carol, /^bob3 is muted in .* until/).waitFor();
  const status = bob.getByTestId('composer-status');
  await status.waitFor();
  expect(await status.textContent()).toMatch(/^You are muted in this room until \d{1,2}:\d{2}/);
  expect(await bob.getByTestId('composer-input').isDisabled()).toBe(true);

  // The owner is out of her reach: her row offers a moderator nothing (the server refuses it:
  // tests/moderation/moderation).
  expect(await member(carol, 'alice3').getByTestId('member-moderate').count()).toBe(0);
  expect(await alice.getByTestId('composer-input').isDisabled()).toBe(false);
  await say(alice, 'still the owner');
  await row(carol, 'still the owner').waitFor();
});

it('the word filter refuses a message with a listed word on screen, and it reaches nobody', async () => {
  const { owner: alice, joiner: bob } = await signedInRoom(stage, ['alice4', 'bob4']);
  await send(bob, `well ${FILTERED_WORD} it`);
  const refused = row(bob, `well ${FILTERED_WORD} it`);
  await refused.and(bob.locator('[data-status="failed"]')).waitFor();
  expect(await refused.locator('.msg-failure').textContent()).toMatch(
    /^Not delivered: Your message holds a word this chat doesn't allow: reword it and send again\./,
  );
  await say(bob, 'well darned it');
  await row(alice, 'well darned it').waitFor({ timeout: UI_TIMEOUT_MS });
  expect(await row(alice, `well ${FILTERED_WORD} it`).count()).toBe(0);
});
