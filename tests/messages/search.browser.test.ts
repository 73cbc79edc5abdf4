import { join } from 'node:path';
import {
  browserStage,
  hasText,
  joinRoom,
  linksIn,
  person,
  messageRow as row,
  SCREENSHOTS,
} from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Search in the web chat (web/search.js), in Chromium against the local cloud: alice, who joined after bob wrote it
 * and a page of chatter more, finds bob's message by a word in the search panel of the room's header, the word marked,
 * and a click shows the message in the room (older history loaded until it is there), marked as the one found. A reply
 * in a thread is not in the room's flow: its hit names the room by its name, and a click opens the thread pane on its
 * root with the reply marked there. A hit reads as its message does: its Markdown drawn (bold, a link), the sender's
 * HTML and a javascript: link as inert text.
 */
jest.setTimeout(240_000);

// Bob's chatter goes out faster than a person types: his connection's send bucket is out of the way.
const stage = browserStage(undefined, { SendRateLimit: 1000, FrameRateLimit: 100000 });

it("alice finds bob's message by a word and jumps to it in the room", async () => {
  const bob = await ChatClient.connect(stage.cloud.wsUrl, 'bob-search');
  try {
    const created = await bob.expectReply({ action: 'createroom' });
    const code = created.roomId as string;
    await bob.expectReply({ action: 'sendmessage', message: 'the spare key is under the blue flowerpot' });
    // More than the page a join opens with (50): the message found is not on alice's screen until older pages load.
    for (let i = 0; i < 60; i++) await bob.expectReply({ action: 'sendmessage', message: `chatter ${i}` });

    const alice = await person(stage, 'alice-search');
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

    const alice = await person(stage, 'alice-thread-search');
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

    const alice = await person(stage, 'alice-md-search');
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
