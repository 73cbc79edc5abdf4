import type { Page } from 'playwright-core';
import { browserStage, hasText, peopleInRoom, messageRow as row, send } from '../helpers/browserStage';

/**
 * Edits, deletes and reactions in the web chat (web/changes.js), two people in Chromium: a reaction shows as a chip
 * with its count, highlighted for whoever gave it; an edit shows its text and an "edited" mark to the other; the
 * room's owner removes the other's message, which becomes a tombstone on both screens.
 */
jest.setTimeout(240_000);

const stage = browserStage();

const rowAt = (page: Page, seq: number) => page.locator(`[data-testid="message"][data-seq="${seq}"]`);

it('two people react, edit and moderate, and each sees the other do it', async () => {
  const {
    pages: [alice, bob],
  } = await peopleInRoom(stage, ['alice-ed', 'bob-ed']);
  // Both see both: the room's member index has bob, so the fan-out reaches him.
  for (const page of [alice, bob])
    await page.locator('[data-testid="member-item"][data-username="bob-ed"]').waitFor({ state: 'attached' });

  await send(alice, 'lunch at noon?');
  await row(bob, 'lunch at noon?').waitFor();
  const seq = Number(await row(bob, 'lunch at noon?').getAttribute('data-seq'));

  await rowAt(bob, seq).getByTestId('react-button').filter({ hasText: '👍' }).click();
  const aliceChip = rowAt(alice, seq).locator('[data-testid="reaction-chip"][data-reaction="👍"]');
  await aliceChip.and(alice.locator('[data-count="1"]')).waitFor();
  expect(await aliceChip.getAttribute('aria-pressed')).toBe('false');
  await aliceChip.click();
  const bobChip = rowAt(bob, seq).locator('[data-testid="reaction-chip"][data-reaction="👍"]');
  await bobChip.and(bob.locator('[data-count="2"]')).waitFor();
  expect(await bobChip.getAttribute('aria-pressed')).toBe('true');
  await aliceChip.and(alice.locator('[aria-pressed="true"][data-count="2"]')).waitFor();

  // Only your own messages offer Edit; the author edits in place.
  expect(await rowAt(bob, seq).getByTestId('edit-message').count()).toBe(0);
  await rowAt(alice, seq).getByTestId('edit-message').click();
  await rowAt(alice, seq).getByTestId('edit-input').fill('lunch at one?');
  await rowAt(alice, seq).getByTestId('edit-input').press('Enter');
  await rowAt(bob, seq).locator('.msg-text', { hasText: 'lunch at one?' }).waitFor();
  await rowAt(bob, seq).getByTestId('edited-mark').waitFor();

  // The room's owner removes bob's message: a tombstone on both screens, its text gone.
  await send(bob, 'buy cheap watches');
  await row(alice, 'buy cheap watches').waitFor();
  const spam = Number(await row(alice, 'buy cheap watches').getAttribute('data-seq'));
  // A delete asks first: one click arms it and deletes nothing; the second deletes.
  const del = rowAt(alice, spam).getByTestId('delete-message');
  await del.click();
  await hasText(del, 'Delete? Click again');
  expect(await rowAt(bob, spam).getByTestId('tombstone').count()).toBe(0);
  await del.click();
  for (const page of [alice, bob]) {
    await rowAt(page, spam).getByTestId('tombstone').waitFor();
    expect(await rowAt(page, spam).textContent()).not.toContain('watches');
  }
});
