import { browserStage, hasText, joinRoom, person, messageRow as row } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * Search in the web chat (web/search.js), in Chromium against the local cloud: alice, who joined after bob wrote it
 * and a page of chatter more, finds bob's message by a word in the search panel of the room's header, the word marked,
 * and a click shows the message in the room (older history loaded until it is there), marked as the one found.
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
    await hasText(hit.locator('.search-open'), 'the spare key is under the blue flowerpot');
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
