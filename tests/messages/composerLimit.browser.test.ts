import { browserStage, createRoom, hasText, person, messageRow as row } from '../helpers/browserStage';

/**
 * The composer's byte limit in the web chat (web/composer.js), in Chromium against the local cloud at 1280×800: Enter
 * does what Send does. Over the limit Send is disabled, and Enter leaves the text in the composer with the limit shown
 * instead of moving it into a failed message; cut back under the limit, Enter sends it.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const LIMIT = 4096;

it('Enter on an over-limit message keeps it in the composer with the limit shown, and sends it once it fits', async () => {
  const page = await person(stage, 'carol-limit', { viewport: { width: 1280, height: 800 } });
  await createRoom(page);
  const input = page.getByTestId('composer-input');
  const over = `too long ${'x'.repeat(LIMIT)}`;
  await input.fill(over);
  expect(await page.getByTestId('send-button').isDisabled()).toBe(true);

  await input.press('Enter');
  expect((await input.inputValue()).length).toBe(over.length);
  await hasText(page.getByTestId('composer-counter'), `${new TextEncoder().encode(over).length} / ${LIMIT}`);
  expect(await page.locator('[data-testid="message"]').count()).toBe(0);

  await input.fill('fits now');
  await input.press('Enter');
  await row(page, 'fits now').waitFor();
  expect(await input.inputValue()).toBe('');
  // The over-limit text never became a message of its own, failed or pending.
  expect(await page.locator('[data-testid="message"]').count()).toBe(1);
});
