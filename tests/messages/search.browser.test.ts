import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  joinRoom,
  linksIn,
  person,
  messageRow as row,
  SCREENSHOTS,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Search in the web chat (web/search.js), in Chromium against the local cloud: alice, who joined after bob wrote it
 * and a page of chatter more, finds bob's message by a word in the search panel of the room's header, the word marked,
 * and a click shows the message in the room (older history loaded until it is there), marked as the one found. A reply
 * in a thread is not in the room's flow: its hit names the room by its name, and a click opens the thread pane on its
 * root with the reply marked there. A hit reads as its message does: its Markdown drawn (bold, a link), the sender's
 * HTML and a javascript: link as inert text. The query's syntax as typed: `meet*` finds the words starting with it,
 * `from:` keeps one sender's, `in:` names the room searched. Each person reads in a 1280×800 window.
 */
jest.setTimeout(240_000);

// Bob's chatter goes out faster than a person types: his connection's send bucket is out of the way, and so is the
// search budget his wire client spends asking whether the index holds his messages yet.
const stage = browserStage(undefined, {
  SendRateLimit: 1000,
  FrameRateLimit: 100000,
  PersonSearchRateLimit: 0,
});
/** The window a desktop member reads in. */
const DESKTOP = { viewport: { width: 1280, height: 800 } };

it("alice finds bob's message by a word and jumps to it in the room", async () => {
  const bob = await ChatClient.connect(stage.cloud.wsUrl, 'bob-search');
  try {
    const created = await bob.expectReply({ action: 'createroom' });
    const code = created.roomId as string;
    await bob.expectReply({ action: 'sendmessage', message: 'the spare key is under the blue flowerpot' });
    // More than the page a join opens with (50): the message found is not on alice's screen until older pages load.
    for (let i = 0; i < 60; i++) await bob.expectReply({ action: 'sendmessage', message: `chatter ${i}` });

    const alice = await person(stage, 'alice-search', DESKTOP);
    await joinRoom(alice, code);
    await row(alice, 'chatter 59').waitFor();
    expect(await row(alice, 'flowerpot').count()).toBe(0);

    await alice.getByTestId('search-button').click();
    await alice.getByTestId('search-input').fill('Flowerpot');
    await alice.getByTestId('search-submit').click();
    const hit = alice.getByTestId('search-hit');
    await hasText(hit.locator('.search-text'), 'the spare key is under the blue flowerpot');
    expect(await hit.count()).toBe(1);
    expect(await hit.locator('mark').allTextContents()).toEqual(['flowerpot']);
    expect(await hit.locator('.search-meta').textContent()).toContain('bob-search');

    await hit.locator('.search-open').click();
    const found = row(alice, 'the spare key is under the blue flowerpot');
    await found.waitFor();
    await alice.locator('[data-testid="message"].is-search-hit').filter({ hasText: 'flowerpot' }).waitFor();
    expect(await found.isVisible()).toBe(true);
  } finally {
    bob.close();
  }
});

it('a reply in a thread is found by search and its click opens the thread with the reply marked', async () => {
  const bob = await ChatClient.connect(stage.cloud.wsUrl, 'bob-thread-search');
  try {
    const created = await bob.expectReply({ action: 'createroom', name: 'Harbour crew' });
    const code = created.roomId as string;
    const root = await bob.expectReply({ action: 'sendmessage', message: 'who brings the ropes?' });
    await bob.expectReply({
      action: 'sendmessage',
      message: 'the anchor chain is in the red locker',
      threadOf: root.seq,
    });

    const alice = await person(stage, 'alice-thread-search', DESKTOP);
    await joinRoom(alice, code);
    await row(alice, 'who brings the ropes?').waitFor();
    expect(await row(alice, 'anchor chain').count()).toBe(0);

    // Every room of hers: the hit says which room, by the name the sidebar shows, not its code.
    await alice.getByTestId('search-button').click();
    await alice.getByTestId('search-everywhere').check();
    await alice.getByTestId('search-input').fill('locker');
    await alice.getByTestId('search-submit').click();
    const hit = alice.getByTestId('search-hit');
    await hasText(hit.locator('.search-text'), 'the anchor chain is in the red locker');
    expect(await hit.count()).toBe(1);
    const meta = (await hit.locator('.search-meta').textContent()) ?? '';
    expect(meta).toContain('Harbour crew');
    expect(meta).not.toContain(code);

    // The click opens the thread on its root, the reply there marked as the one found; nothing says it is gone.
    await hit.locator('.search-open').click();
    const pane = alice.getByTestId('thread-pane');
    await pane.waitFor();
    await hasText(pane.getByTestId('thread-root').locator('.msg-text'), 'who brings the ropes?');
    const found = pane.locator('[data-testid="thread-reply"].is-search-hit');
    await hasText(found.locator('.msg-text'), 'the anchor chain is in the red locker');
    expect(await found.isVisible()).toBe(true);
    expect(await alice.getByText('That message is no longer kept.').count()).toBe(0);
  } finally {
    bob.close();
  }
});

it('a hit reads as its message: bold and a link drawn, the word marked, HTML and javascript: inert', async () => {
  const bob = await ChatClient.connect(stage.cloud.wsUrl, 'bob-md-search');
  try {
    const created = await bob.expectReply({ action: 'createroom' });
    const code = created.roomId as string;
    const sent =
      'the **lighthouse** keys: [the wiki](https://example.com/wiki) <script>alert(1)</script> [bad](javascript:alert(2))';
    await bob.expectReply({ action: 'sendmessage', message: sent });
    await bob.expectReply({ action: 'sendmessage', message: 'nothing to see here' });

    const alice = await person(stage, 'alice-md-search', DESKTOP);
    const alerts: string[] = [];
    alice.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
    await joinRoom(alice, code);
    await row(alice, 'nothing to see here').waitFor();

    await alice.getByTestId('search-button').click();
    await alice.getByTestId('search-input').fill('lighthouse');
    await alice.getByTestId('search-submit').click();
    const hit = alice.getByTestId('search-hit');
    const text = hit.locator('.search-text');
    // Drawn as the room draws it: no asterisks or brackets of the link, the word bold and still marked.
    await hasText(text, 'the lighthouse keys: the wiki <script>alert(1)</script> [bad](javascript:alert(2))');
    expect(await hit.count()).toBe(1);
    await hasText(text.locator('strong'), 'lighthouse');
    expect(await text.locator('strong mark').allTextContents()).toEqual(['lighthouse']);
    const links = await linksIn(text);
    expect(links).toEqual([
      { text: 'the wiki', href: 'https://example.com/wiki', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    // The sender's HTML is text, its javascript: link no link, and nothing ran.
    expect(await alice.getByTestId('search-results').locator('script, b, img').count()).toBe(0);
    expect(alerts).toEqual([]);
    // The sender's name and the time head it, as in the room.
    expect(await hit.locator('.search-meta .msg-author').textContent()).toBe('bob-md-search');
    expect(await hit.locator('.search-meta time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await alice.screenshot({ path: join(SCREENSHOTS, 'search-hit-markdown.png') });

    // A click on its text (not on the link) still shows the message in the room, marked.
    await text.locator('strong').click();
    await alice
      .locator('[data-testid="message"].is-search-hit')
      .filter({ hasText: 'lighthouse keys' })
      .waitFor();
  } finally {
    bob.close();
  }
});

/** Waits until the search panel lists exactly the hits `texts` (in any order), and fails showing what it lists. */
async function hitsAre(page: Page, texts: string[]): Promise<void> {
  const want = [...texts].sort();
  const deadline = Date.now() + UI_TIMEOUT_MS;
  let shown: string[] = [];
  while (Date.now() < deadline) {
    shown = (await page.getByTestId('search-hit').locator('.search-text').allTextContents())
      .map((text) => text.trim())
      .sort();
    if (JSON.stringify(shown) === JSON.stringify(want)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(shown).toEqual(want);
}

/** Types `query` in the open search panel and submits it. */
async function searchFor(page: Page, query: string): Promise<void> {
  await page.getByTestId('search-input').fill(query);
  await page.getByTestId('search-submit').click();
}

it('a prefix, from: and in: typed in the search box narrow the hits to exactly those they name', async () => {
  const bob = await ChatClient.connect(stage.cloud.wsUrl, 'bob-syntax');
  const carol = await ChatClient.connect(stage.cloud.wsUrl, 'carol-syntax');
  try {
    const garden = (await bob.expectReply({ action: 'createroom', name: 'Garden Club' })).roomId as string;
    await bob.expectReply({ action: 'sendmessage', message: 'the meetings move to friday' });
    await carol.expectReply({ action: 'joinroom', roomId: garden });
    await carol.expectReply({ action: 'sendmessage', message: 'meetup at noon by the shed' });
    await carol.expectReply({ action: 'sendmessage', message: 'we met at the gate' });
    const market = (await bob.expectReply({ action: 'createroom', name: 'Night market' })).roomId as string;
    await bob.expectReply({ action: 'sendmessage', message: 'meeting notes are pinned here' });
    await bob.expectReply({ action: 'sendmessage', message: 'the meat stall opens late' });
    // The fan-out indexes a message after posting it: the three are searchable before alice looks.
    for (;;) {
      const found = await bob.expectReply({ action: 'search', query: 'meet*' });
      if ((found.results as unknown[]).length >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const alice = await person(stage, 'alice-syntax', DESKTOP);
    await joinRoom(alice, market);
    await joinRoom(alice, garden);
    await row(alice, 'we met at the gate').waitFor();
    await alice.getByTestId('search-button').click();

    // A prefix: every word starting with it, in all her rooms, each such word marked; "met" and "meat" are not hits.
    await alice.getByTestId('search-everywhere').check();
    await searchFor(alice, 'meet*');
    await hitsAre(alice, [
      'the meetings move to friday',
      'meetup at noon by the shed',
      'meeting notes are pinned here',
    ]);
    const marks = await alice.getByTestId('search-hit').locator('.search-text mark').allTextContents();
    expect(marks.sort()).toEqual(['meeting', 'meetings', 'meetup']);
    await hasText(alice.getByTestId('search-status'), '3 found, newest first.');

    // from: keeps one sender's.
    await searchFor(alice, 'meet* from:carol-syntax');
    await hitsAre(alice, ['meetup at noon by the shed']);
    expect(await alice.getByTestId('search-hit').locator('.search-meta').textContent()).toContain(
      'carol-syntax',
    );

    // in: names the room to search, by its name, even with only the room on screen (Garden Club) ticked.
    await alice.getByTestId('search-everywhere').uncheck();
    await searchFor(alice, 'meet* in:"Night market"');
    await hitsAre(alice, ['meeting notes are pinned here']);
    expect(await alice.getByTestId('search-hit').locator('.search-meta').textContent()).toContain(
      'Night market',
    );
    expect(await alice.getByTestId('toast').count()).toBe(0);
  } finally {
    bob.close();
    carol.close();
  }
});
