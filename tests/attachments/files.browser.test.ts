import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { browserStage, roomOfTwo, SCREENSHOTS, signInByName } from '../helpers/browserStage';

/**
 * Files in the web chat (web/attachments.js, web/attachmentView.js fileChip): alice attaches a small PDF with the 📎 button, bob
 * sees it as a file chip (its name and size, no image), and the chip's link downloads it from the attachments bucket
 * (served as `attachment`, so the browser saves it rather than showing it). A file outside the allowlist is refused
 * before anything is uploaded.
 */
jest.setTimeout(240_000);

const stage = browserStage(undefined, { SendRateLimit: '1000', FrameRateLimit: '100000' });

/** A small PDF of 3,000 bytes: its header and a comment filling it out. */
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n%'), Buffer.alloc(2990 - 1, 0x41), Buffer.from('\n')]);

it('alice attaches a PDF; bob sees a file chip with its name and size, and its link downloads it', async () => {
  const alice = await stage.newPage({ width: 1100, height: 760 });
  const bob = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(alice, stage.cloud.httpUrl, 'alice', 'visible');
  await signInByName(bob, stage.cloud.httpUrl, 'bob', 'visible');
  await roomOfTwo(alice, bob);

  // The picker offers the allowlist: PDF among it, never HTML or SVG.
  const accept = String(await alice.getByTestId('attach-input').getAttribute('accept')).split(',');
  expect(accept).toEqual(expect.arrayContaining(['application/pdf', '.pdf', 'image/png']));
  expect(accept.filter((t) => /html|svg|javascript/.test(t))).toEqual([]);

  await alice.getByTestId('attach-input').setInputFiles({
    name: 'minutes.pdf',
    mimeType: 'application/pdf',
    buffer: PDF,
  });
  await alice.locator('[data-testid="attachment-chip"][data-state="ready"]').waitFor();
  await alice.getByTestId('composer-input').fill('the minutes');
  await alice.getByTestId('send-button').click();

  const row = bob.locator('[data-testid="message"][data-seq][data-username="alice"]').filter({
    hasText: 'the minutes',
  });
  const chip = row.locator('[data-testid="file-chip"][href]');
  await chip.waitFor();
  expect(await chip.getByTestId('file-name').textContent()).toBe('minutes.pdf');
  expect(await chip.getByTestId('file-size').textContent()).toBe('3 KB');
  // A file, not a picture: no image element in the message.
  expect(await row.locator('img').count()).toBe(0);
  expect(String(await chip.getAttribute('href')).startsWith(stage.cloud.s3Endpoint)).toBe(true);
  await bob.screenshot({ path: join(SCREENSHOTS, 'files-bob.png') });

  const [download] = await Promise.all([bob.waitForEvent('download'), chip.click()]);
  expect(download.suggestedFilename()).toBe('minutes.pdf');
  expect(await readFile(await download.path())).toEqual(PDF);
  // The page stays where it was: the file was saved, not opened in its place.
  expect(bob.url().startsWith(stage.cloud.httpUrl)).toBe(true);
});

it('refuses an HTML file and a name with a control character before uploading anything', async () => {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(page, stage.cloud.httpUrl, 'carol', 'visible');
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  await page.getByTestId('attach-input').setInputFiles({
    name: 'page.html',
    mimeType: 'text/html',
    buffer: Buffer.from('<script>alert(1)</script>'),
  });
  await page.getByText('this is text/html').waitFor();
  await page.getByTestId('attach-input').setInputFiles({
    name: 'bad\u0007name.pdf',
    mimeType: 'application/pdf',
    buffer: PDF,
  });
  await page.getByText('control or invisible formatting characters').waitFor();
  expect(await page.locator('[data-testid="attachment-chip"]').count()).toBe(0);
});
