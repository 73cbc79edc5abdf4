import { browserStage, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * The emoji picker for reactions (web/emojiPicker.js): ＋ under a message opens it; a search finds an emoji by name;
 * picking one reacts with it, the room sees it, and an emoji the data writes with a superfluous selector (👍️) counts
 * as the plain one. The emoji named exactly as searched comes first, and Enter picks the first shown. Escape closes it. On a touch screen a long press shows a message's actions.
 */
jest.setTimeout(90_000);

const stage = browserStage(undefined, { FrameRateLimit: '100000' });

it('reacts with an emoji found by search, the room sees it, and 👍️ from the data counts as 👍', async () => {
  const ana = await ChatClient.connect(stage.cloud.wsUrl, 'ana');
  try {
    const roomId = String((await ana.expectReply({ action: 'createroom' })).roomId);
    const sent = await ana.expectReply({ action: 'sendmessage', message: 'pick one' });

    const page = await stage.newPage({ width: 1100, height: 760 });
    await signInByName(page, stage.cloud.httpUrl, 'ben', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const row = page.locator(`[data-testid="message"][data-seq="${sent.seq}"]`);
    await row.waitFor();

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
    const page = await stage.newPage({ width: 1100, height: 760 });
    await signInByName(page, stage.cloud.httpUrl, 'ben3', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const row = page.locator(`[data-testid="message"][data-seq="${sent.seq}"]`);
    await row.waitFor();

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
    const context = await stage.newContext({ width: 800, height: 700 });
    const page = await context.newPage();
    await signInByName(page, stage.cloud.httpUrl, 'ben2', 'visible');
    await page.getByTestId('join-input').fill(roomId);
    await page.getByTestId('join-button').click();
    const first = page.locator('[data-testid="message"]', { hasText: 'first' });
    const second = page.locator('[data-testid="message"]', { hasText: 'second' });
    await second.waitFor();
    const actionsOpacity = (row: typeof first) =>
      row.locator('.msg-actions').evaluate((el) => {
        const page = globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } };
        return page.getComputedStyle(el).opacity;
      });
    expect(await actionsOpacity(first)).toBe('0');
    await first.locator('.msg-text').dispatchEvent('touchstart');
    await page.waitForTimeout(700);
    await first.locator('.msg-text').dispatchEvent('touchend');
    expect(await actionsOpacity(first)).toBe('1');
    await second.locator('.msg-text').dispatchEvent('touchstart');
    await second.locator('.msg-text').dispatchEvent('touchend');
    expect(await actionsOpacity(first)).toBe('0');
  } finally {
    await ana.close();
  }
});
