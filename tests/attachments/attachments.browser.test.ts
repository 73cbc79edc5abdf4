import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { browserStage, joinRoom, SCREENSHOTS, shownRoom, signInByName } from '../helpers/browserStage';

/**
 * Images in the web chat (web/attachments.js): alice picks an image with the 📎 button and bob pastes one into the
 * composer; each upload shows its progress, goes straight to the attachments bucket (the local S3, another origin
 * the page's CSP allows), and the other member sees the thumbnail, loaded through a presigned GET. A thumbnail
 * opens full size.
 */
jest.setTimeout(240_000);

const stage = browserStage(undefined, { SendRateLimit: '1000', FrameRateLimit: '100000' });

/** A real PNG of `width` x `height` pixels (RGB, a gradient), built here so the browser decodes it. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Array.from({ length: height }, (_, y) =>
    Buffer.concat([
      Buffer.from([0]),
      Buffer.from(Array.from({ length: width }, (_, x) => [(x * 2) & 255, (y * 3) & 255, 200]).flat()),
    ]),
  );
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const PNG_BASE64 = png(120, 80).toString('base64');

/** A thumbnail that has loaded an image (a refused or blocked load has no natural size). */
async function loadedThumbnail(page: import('playwright-core').Page, from: string) {
  const thumb = page
    .locator(`[data-testid="message"][data-seq][data-username="${from}"] [data-testid="attachment-thumb"]`)
    .first();
  await thumb.waitFor();
  await page.waitForFunction(
    (el) => (el as unknown as { complete: boolean; naturalWidth: number }).naturalWidth > 0,
    await thumb.elementHandle(),
  );
  return thumb;
}

it('alice picks an image, bob pastes one; each sees the other’s thumbnail', async () => {
  const alice = await stage.newPage({ width: 1100, height: 760 });
  const bob = await stage.newPage({ width: 1100, height: 760 });
  const refused: string[] = [];
  for (const page of [alice, bob])
    page.on('console', (m) => {
      if (/Content Security Policy|CORS/i.test(m.text())) refused.push(m.text());
    });
  await signInByName(alice, stage.cloud.httpUrl, 'alice', 'visible');
  await signInByName(bob, stage.cloud.httpUrl, 'bob', 'visible');
  await alice.getByTestId('create-room-button').click();
  await alice.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const code = await shownRoom(alice);
  await joinRoom(bob, code);

  // Alice picks a file: the upload shows progress, then the image waits in the tray; Send sends it alone.
  await alice.getByTestId('attach-input').setInputFiles({
    name: 'dots.png',
    mimeType: 'image/png',
    buffer: Buffer.from(PNG_BASE64, 'base64'),
  });
  await alice
    .locator('[data-testid="attachment-chip"] [data-testid="upload-progress"]')
    .first()
    .waitFor({ state: 'attached' });
  await alice.locator('[data-testid="attachment-chip"][data-state="ready"]').waitFor();
  expect(
    Number(
      await alice
        .getByTestId('upload-progress')
        .first()
        .evaluate((el) => (el as unknown as { value: number }).value),
    ),
  ).toBe(1);
  await alice.getByTestId('send-button').click();
  const fromAlice = await loadedThumbnail(bob, 'alice');
  expect(await fromAlice.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(
    120,
  );
  expect(await alice.getByTestId('attachment-tray').isHidden()).toBe(true);

  // Bob pastes an image into the composer and writes a caption.
  await bob.getByTestId('composer-input').fill('look at this');
  // A paste event carrying the file, as the browser fires it for an image on the clipboard.
  await bob.evaluate(`(() => {
    const bytes = Uint8Array.from(atob('${PNG_BASE64}'), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    document.getElementById('composer-input').dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
    );
  })()`);
  await bob.locator('[data-testid="attachment-chip"][data-state="ready"]').waitFor();
  await bob.getByTestId('composer-input').press('Enter');
  const fromBob = await loadedThumbnail(alice, 'bob');
  const row = alice.locator('[data-testid="message"][data-seq]').filter({ hasText: 'look at this' });
  expect(await row.locator('[data-testid="attachment-thumb"]').count()).toBe(1);
  // The image comes from the bucket by a presigned GET, never the page's origin or a bare object URL.
  const src = String(await fromBob.getAttribute('src'));
  expect(src.startsWith(stage.cloud.s3Endpoint)).toBe(true);
  expect(new URL(src).searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  expect(refused).toEqual([]);
  await alice.screenshot({ path: join(SCREENSHOTS, 'attachments-alice.png') });
});

it('opens a thumbnail full size on a click, and Escape closes it', async () => {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(page, stage.cloud.httpUrl, 'vera', 'visible');
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  await page.getByTestId('attach-input').setInputFiles({
    name: 'wide.png',
    mimeType: 'image/png',
    buffer: png(900, 600),
  });
  await page.locator('[data-testid="attachment-chip"][data-state="ready"]').waitFor();
  await page.getByTestId('send-button').click();
  const thumb = await loadedThumbnail(page, 'vera');
  const width = (el: unknown) =>
    (el as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width;
  expect(await thumb.evaluate(width)).toBeLessThanOrEqual(240);

  await thumb.click();
  const viewer = page.getByTestId('image-viewer');
  await viewer.waitFor();
  const full = viewer.getByTestId('image-viewer-img');
  await page.waitForFunction(
    (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
    await full.elementHandle(),
  );
  // The picture at its own size: 900 px wide in a 1100 px window.
  expect(await full.evaluate(width)).toBe(900);
  await page.screenshot({ path: join(SCREENSHOTS, 'attachments-viewer.png') });
  await page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'detached' });
  expect(
    await thumb.evaluate(
      (el) =>
        el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
    ),
  ).toBe(true);

  // From the keyboard too: Enter on the focused thumbnail opens it, the close button closes it.
  await thumb.press('Enter');
  await viewer.waitFor();
  await viewer.getByTestId('image-viewer-close').click();
  await viewer.waitFor({ state: 'detached' });
});

it('refuses a file that is not an image the server accepts, before uploading anything', async () => {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(page, stage.cloud.httpUrl, 'carol', 'visible');
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  await page.getByTestId('attach-input').setInputFiles({
    name: 'page.svg',
    mimeType: 'image/svg+xml',
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
  });
  await page.getByText('Only PNG, JPEG, GIF and WebP images can be attached').waitFor();
  expect(await page.locator('[data-testid="attachment-chip"]').count()).toBe(0);
});
