import { browserStage, joinRoom, person } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * The emoji picker for reactions (web/emojiPicker.js): ＋ under a message opens it; a search finds an emoji by name;
 * picking one reacts with it, the room sees it, and an emoji the data writes with a superfluous selector (👍️) counts
 * as the plain one. The emoji named exactly as searched comes first, and Enter picks the first shown. Escape closes it. On a touch screen a long press shows a message's actions.
 */
jest.setTimeout(240_000);

const stage = browserStage(undefined, { FrameRateLimit: '100000' });

/** `username` signed in and in the room, its page and the row of the message `seq`, once shown. */
async function readerOf(roomId: string, seq: unknown, username: string) {
  const page = await person(stage, username);
  await joinRoom(page, roomId);
  const row = page.locator(`[data-testid="message"][data-seq="${seq}"]`);
  await row.waitFor();
  return { page, row };
}

it('reacts with an emoji found by search, the room sees it, and 👍️ from the data counts as 👍', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    const sent = await ana.expectReply({ action: 'sendmessage', message: 'pick one' });

    const { page, row } = await readerOf(roomId, sent.seq, 'ben');

    await row.hover();
    await row.getByTestId('more-reactions').click();
    const picker = page.getByTestId('emoji-picker');
    await picker.getByTestId('emoji-option').first().waitFor();
    await picker.getByTestId('emoji-search').fill('unicorn');
    await picker.getByRole('button', { name: 'unicorn', exact: true }).click();
    await picker.waitFor({ state: 'detached' });
    await row.locator('[data-testid="reaction-chip"][data-reaction="🦄"][data-count="1"]').waitFor();
    expect(await ana.next((f) => f.type === 'reaction' && f.reaction === '🦄')).toMatchObject({
      added: true,
    });

    await row.hover();
    await row.getByTestId('more-reactions').click();
    await picker.getByTestId('emoji-search').fill('thumbs up');
    const thumbs = picker.getByRole('button', { name: 'thumbs up', exact: true });
    expect(await thumbs.textContent()).toBe('\u{1F44D}\uFE0F');
    await thumbs.click();
    await row.locator('[data-testid="reaction-chip"][data-reaction="\u{1F44D}"]').waitFor();

    // Escape closes it without reacting.
    await row.hover();
    await row.getByTestId('more-reactions').click();
    await picker.getByTestId('emoji-search').press('Escape');
    await picker.waitFor({ state: 'detached' });
    expect(await row.getByTestId('reaction-chip').count()).toBe(2);
  } finally {
    await ana.close();
  }
});

it('lists the emoji named exactly as searched first, and Enter reacts with it and closes the picker', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana3');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    const sent = await ana.expectReply({ action: 'sendmessage', message: 'to the moon' });
    const { page, row } = await readerOf(roomId, sent.seq, 'ben3');

    await row.hover();
    await row.getByTestId('more-reactions').click();
    const picker = page.getByTestId('emoji-picker');
    await picker.getByTestId('emoji-option').first().waitFor();
    await picker.getByTestId('emoji-search').fill('rocket');
    // 🚀 is named "rocket"; the astronauts only carry it as a tag, so they come after it.
    await picker.locator('[data-testid="emoji-option"][aria-label="rocket"]').waitFor();
    const shown = await picker.getByTestId('emoji-option').allTextContents();
    expect(shown[0]).toBe('🚀');
    expect(shown).toContain('🧑‍🚀');
    await picker.getByTestId('emoji-search').press('Enter');
    await picker.waitFor({ state: 'detached' });
    await row.locator('[data-testid="reaction-chip"][data-reaction="🚀"][data-count="1"]').waitFor();
    expect(await ana.next((f) => f.type === 'reaction' && f.reaction === '🚀')).toMatchObject({
      added: true,
    });
  } finally {
    await ana.close();
  }
});

it("shows a message's actions after a long press on a touch screen, and hides them at the next touch elsewhere", async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana2');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    await ana.expectReply({ action: 'sendmessage', message: 'first' });
    await ana.expectReply({ action: 'sendmessage', message: 'second' });
    const page = await person(stage, 'ben2', { viewport: { width: 800, height: 700 } });
    await joinRoom(page, roomId);
    const first = page.locator('[data-testid="message"]', { hasText: 'first' });
    const second = page.locator('[data-testid="message"]', { hasText: 'second' });
    await second.waitFor();
    const actionsOpacity = (row: typeof first) =>
      row.locator('.msg-actions').evaluate((el) => {
        const page = globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } };
        return page.getComputedStyle(el).opacity;
      });
    expect(await actionsOpacity(first)).toBe('0');
    // The touch rests until the actions show (LONG_PRESS_MS on the page's clock), then lifts: they stay.
    await first.locator('.msg-text').dispatchEvent('touchstart');
    await page.locator('[data-testid="message"].show-actions', { hasText: 'first' }).waitFor();
    await first.locator('.msg-text').dispatchEvent('touchend');
    expect(await actionsOpacity(first)).toBe('1');
    await second.locator('.msg-text').dispatchEvent('touchstart');
    await second.locator('.msg-text').dispatchEvent('touchend');
    expect(await actionsOpacity(first)).toBe('0');
  } finally {
    await ana.close();
  }
});
