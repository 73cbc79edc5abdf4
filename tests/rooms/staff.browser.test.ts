import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  browserStage,
  createRoom,
  hasText,
  joinRoom,
  messageRow,
  online,
  person,
  SCREENSHOTS,
  say,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * What a room's staff see of what they manage in the web chat (web/modlog.js, web/moderation.js, web/members.js), in
 * Chromium against the local cloud at 1280×800 (a laptop): a muted member is marked "muted" in the owner's member
 * list; a ban and a removal show to the others as "was banned" and "was removed", not as a leave; the owner's
 * Moderation panel lists who is muted and who is banned, each lifted with one click, and the room's moderation log,
 * newest first, whole inside the window (a screenshot goes to test-output/browser/). And a person someone blocked no longer shows as typing to them.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const LAPTOP = { width: 1280, height: 800 };

const member = (page: Page, name: string) =>
  page.locator(`[data-testid="member-item"][data-username="${name}"]`);

/** Opens the member's Moderate menu in `page` and picks `item`. */
async function moderate(page: Page, name: string, item: string): Promise<void> {
  await member(page, name).getByTestId('member-moderate').click();
  await member(page, name).getByTestId(item).click();
}

/** The system lines of the page's message list that name `name`. */
const linesOf = (page: Page, name: string) =>
  page.getByTestId('message-list').getByTestId('system-line').filter({ hasText: name });

/**
 * Whether the element is whole inside the window (nothing of it cut off at the right or bottom) once the page has
 * settled: the panel is drawn again as each read of the room's `modlog` comes back, so the geometry is read until it
 * holds (or the UI timeout passes), not at one instant. On failure the last geometry read is logged.
 */
async function inWindow(item: Locator): Promise<boolean> {
  const giveUpAt = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const seen = await item.evaluate((el) => {
      const r = el.getBoundingClientRect();
      const w = globalThis as unknown as { innerWidth: number; innerHeight: number };
      const whole =
        r.width > 0 && r.left >= 0 && r.top >= 0 && r.right <= w.innerWidth && r.bottom <= w.innerHeight;
      return { whole, rect: JSON.stringify(r), window: [w.innerWidth, w.innerHeight] };
    });
    if (seen.whole) return true;
    if (Date.now() > giveUpAt) {
      console.log('not whole in the window', seen);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Whether the row's name is shown whole: its text no wider than the name's column (not cut off with an ellipsis). */
const nameFits = (row: Locator) =>
  row
    .locator('.member-name')
    .evaluate(
      (el) =>
        (el.querySelector('bdi')?.getBoundingClientRect().width ?? Number.POSITIVE_INFINITY) <=
        el.clientWidth,
    );

/** People at 1280×800, the first creating a room and the others joining it. */
async function laptopsInRoom(names: string[]): Promise<Page[]> {
  const pages: Page[] = [];
  for (const name of names) pages.push(await person(stage, name, { viewport: LAPTOP }));
  const [owner, ...others] = pages as [Page, ...Page[]];
  const code = await createRoom(owner);
  for (const other of others) await joinRoom(other, code);
  for (const name of names.slice(1)) await member(owner, name).waitFor();
  return pages;
}

it('the owner sees who is muted and banned, lifts each with one click, reads the log; members see a ban as a ban', async () => {
  const [alice, bob, carol, dave] = (await laptopsInRoom(['alice-st', 'bob-st', 'carol-st', 'dave-st'])) as [
    Page,
    Page,
    Page,
    Page,
  ];
  // Members see no Moderation button.
  expect(await bob.getByTestId('modlog-button').isVisible()).toBe(false);

  await moderate(alice, 'bob-st', 'mute-60');
  const mark = member(alice, 'bob-st').getByTestId('member-muted');
  await mark.waitFor();
  const untilShown = ((await mark.textContent()) ?? '').replace('muted until ', '');
  expect(untilShown).toMatch(/^\d{1,2}:\d{2}/);
  // Bob's own list marks nobody: members are not told who is muted.
  expect(await bob.getByTestId('member-muted').count()).toBe(0);

  await moderate(alice, 'carol-st', 'member-ban');
  await alice.getByTestId('confirm-ok').click();
  await linesOf(dave, 'carol-st').filter({ hasText: 'carol-st was banned' }).waitFor();
  await member(alice, 'dave-st').getByTestId('member-remove').click();
  await alice.getByTestId('confirm-ok').click();
  await linesOf(bob, 'dave-st').filter({ hasText: 'dave-st was removed' }).waitFor();
  expect(await linesOf(bob, 'carol-st').allTextContents()).toEqual([
    'carol-st joined',
    'carol-st was banned',
  ]);

  // Reloaded, the page knows only what the server says: the mark, the lists and the log are the room's `modlog`.
  await alice.reload();
  await online(alice);
  await hasText(member(alice, 'bob-st').getByTestId('member-muted'), `muted until ${untilShown}`);
  // The name keeps its width beside the mark and the buttons: not cut to a letter or two.
  await hasText(member(alice, 'bob-st').locator('.member-name bdi'), 'bob-st');
  expect(await nameFits(member(alice, 'bob-st'))).toBe(true);
  await alice.screenshot({ path: join(SCREENSHOTS, 'staff-members-laptop.png') });

  await alice.getByTestId('modlog-button').click();
  const panel = alice.getByTestId('modlog-panel');
  await panel.waitFor();
  const muted = panel.getByTestId('modlog-muted-item');
  const banned = panel.getByTestId('modlog-banned-item');
  await muted.filter({ hasText: /^bob-stuntil \d{1,2}:\d{2}/ }).waitFor();
  expect(await muted.count()).toBe(1);
  await hasText(banned.locator('.modlog-person-name'), 'carol-st');
  const entries = panel.getByTestId('modlog-entry');
  await entries.filter({ hasText: 'removed dave-st' }).waitFor();
  const said = await panel.getByTestId('modlog-entry-text').allTextContents();
  expect(said.slice(0, 2)).toEqual(['alice-st removed dave-st', 'alice-st banned carol-st']);
  expect(said[2]).toMatch(/^alice-st muted bob-st until \d{1,2}:\d{2}/);
  // At 1280×800 the panel and its buttons are whole in the window, the page no wider than it.
  expect(await inWindow(alice.getByTestId('modlog-button'))).toBe(true);
  expect(await inWindow(banned.getByTestId('modlog-unban'))).toBe(true);
  expect(await inWindow(muted.getByTestId('modlog-unmute'))).toBe(true);
  const pageWidth = await alice.evaluate(
    () =>
      (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
        .documentElement.scrollWidth,
  );
  expect(pageWidth).toBeLessThanOrEqual(LAPTOP.width);
  await alice.screenshot({ path: join(SCREENSHOTS, 'staff-moderation-laptop.png') });

  await muted.getByTestId('modlog-unmute').click();
  await muted.waitFor({ state: 'detached' });
  await member(alice, 'bob-st').getByTestId('member-muted').waitFor({ state: 'detached' });
  // Unmuted, bob posts again.
  await say(bob, 'heard again');

  await banned.getByTestId('modlog-unban').click();
  await banned.waitFor({ state: 'detached' });
  await entries.filter({ hasText: 'unbanned carol-st' }).waitFor();
  // Unbanned, carol joins again with the room's current link.
  await carol.goto(alice.url());
  await member(alice, 'carol-st').waitFor({ timeout: UI_TIMEOUT_MS });
});

it('a person alice blocked no longer shows to her as typing; others still see him', async () => {
  const [alice, bob, carol] = (await laptopsInRoom(['alice-ty', 'bob-ty', 'carol-ty'])) as [Page, Page, Page];
  const typing = (page: Page) => page.getByTestId('typing-indicator');
  await say(bob, 'buy cheap watches');
  await bob.getByTestId('composer-input').pressSequentially('more', { delay: 30 });
  await hasText(typing(alice), 'bob-ty is typing…');

  await messageRow(alice, 'buy cheap watches').getByTestId('block-author').click();
  await hasText(typing(alice), '');
  // Bob sends (his message ends his typing for carol) and types again: carol sees his new heartbeat, alice does not.
  await bob.getByTestId('composer-input').press('Enter');
  await messageRow(carol, 'more').waitFor();
  await hasText(typing(carol), '');
  await bob.getByTestId('composer-input').pressSequentially('again', { delay: 30 });
  await hasText(typing(carol), 'bob-ty is typing…');
  // Carol types while bob's heartbeat still shows (it shows 7 s): the moment alice sees carol typing, she sees
  // carol alone, never "bob-ty and carol-ty are typing…".
  await carol.getByTestId('composer-input').pressSequentially('hi', { delay: 30 });
  await typing(alice).filter({ hasText: 'carol-ty' }).waitFor();
  expect(await typing(alice).textContent()).toBe('carol-ty is typing…');
});
