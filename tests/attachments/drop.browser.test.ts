import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { ATTACHMENT_LIMITS } from '#protocol';
import { browserStage, ONE_PIXEL_PNG, roomOfTwo, SCREENSHOTS, signInByName } from '../helpers/browserStage';

/**
 * Drag and drop in the web chat (web/dropUpload.js) at 1280×800: alice drags an image from her desktop over the
 * message column, which shows itself as a drop target ("Drop to attach") while the drag is over it and no longer once
 * it leaves; dropped, the image is attached as the 📎 button attaches it, and bob sees its thumbnail. What the 📎
 * button refuses (a type outside the allowlist, an image over its size) a drop refuses in the same words, uploading
 * nothing; dragged text is no file and shows no drop target. The drag is the browser's own events carrying a
 * DataTransfer built in the page, as a file dragged from the desktop brings them (Playwright's "drag and drop file
 * upload").
 */
jest.setTimeout(240_000);

const stage = browserStage(undefined, { SendRateLimit: '1000', FrameRateLimit: '100000' });

const MIB = 1024 * 1024;

interface Dragged {
  name: string;
  type: string;
  /** The file's bytes, base64; else `size` zero bytes. */
  base64?: string;
  size?: number;
}

/** A DataTransfer in the page holding `files` (or, with `text`, only that text), as a drag from outside brings it. */
function dataTransfer(page: Page, files: Dragged[], text?: string) {
  return page.evaluateHandle(
    ([files, text]) => {
      const g = globalThis as unknown as {
        DataTransfer: new () => {
          items: { add(file: unknown): void };
          setData(type: string, value: string): void;
        };
        File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
        atob(s: string): string;
      };
      const data = new g.DataTransfer();
      if (text !== undefined) data.setData('text/plain', text);
      for (const f of files) {
        const bytes =
          f.base64 !== undefined
            ? Uint8Array.from(g.atob(f.base64), (c) => c.charCodeAt(0))
            : new Uint8Array(f.size ?? 0);
        data.items.add(new g.File([bytes], f.name, { type: f.type }));
      }
      return data;
    },
    [files, text] as const,
  );
}

/** Drags `files` over `target` and drops them there: the events a drop from the desktop fires, in their order. */
async function drop(page: Page, target: Locator, files: Dragged[]): Promise<void> {
  const data = await dataTransfer(page, files);
  for (const type of ['dragenter', 'dragover', 'drop'])
    await target.dispatchEvent(type, { dataTransfer: data });
}

it('alice drops an image on the message column and bob sees its thumbnail', async () => {
  const alice = await stage.newPage({ width: 1280, height: 800 });
  const bob = await stage.newPage({ width: 1280, height: 800 });
  await signInByName(alice, stage.cloud.httpUrl, 'alice', 'visible');
  await signInByName(bob, stage.cloud.httpUrl, 'bob', 'visible');
  await roomOfTwo(alice, bob);
  const column = alice.getByTestId('message-list');
  const zone = alice.getByTestId('drop-zone');
  const image: Dragged = { name: 'dot.png', type: 'image/png', base64: ONE_PIXEL_PNG.toString('base64') };

  // Dragged over the column, the file shows the drop target; dragged away, it goes.
  const data = await dataTransfer(alice, [image]);
  await column.dispatchEvent('dragenter', { dataTransfer: data });
  await column.dispatchEvent('dragover', { dataTransfer: data });
  await zone.waitFor();
  expect(await zone.textContent()).toBe('Drop to attach');
  await alice.screenshot({ path: join(SCREENSHOTS, 'drop-target.png') });
  await column.dispatchEvent('dragleave', { dataTransfer: data });
  await zone.waitFor({ state: 'hidden' });

  // Dropped: the image uploads into the tray as a picked one does, and goes with the message.
  await drop(alice, column, [image]);
  await zone.waitFor({ state: 'hidden' });
  await alice.locator('[data-testid="attachment-chip"][data-state="ready"]').waitFor();
  await alice.getByTestId('composer-input').fill('dropped in');
  await alice.getByTestId('send-button').click();
  const row = bob
    .locator('[data-testid="message"][data-seq][data-username="alice"]')
    .filter({ hasText: 'dropped in' });
  const thumb = row.getByTestId('attachment-thumb');
  await thumb.waitFor();
  await bob.waitForFunction(
    (el) => (el as unknown as { naturalWidth: number }).naturalWidth > 0,
    await thumb.elementHandle(),
  );
  expect(await thumb.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
  expect(await alice.getByTestId('attachment-tray').isHidden()).toBe(true);
});

it('refuses a dropped file as the 📎 button does, and dragged text shows no drop target', async () => {
  const page = await stage.newPage({ width: 1280, height: 800 });
  await signInByName(page, stage.cloud.httpUrl, 'carol', 'visible');
  await page.getByTestId('create-room-button').click();
  await page.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const composer = page.getByTestId('composer-input');

  // Text dragged over the composer is the composer's own: no drop target.
  const text = await dataTransfer(page, [], 'just words');
  await composer.dispatchEvent('dragenter', { dataTransfer: text });
  await composer.dispatchEvent('dragover', { dataTransfer: text });
  expect(await page.getByTestId('drop-zone').isHidden()).toBe(true);

  // A type outside the allowlist, dropped on the composer: the picker's refusal, nothing uploaded.
  await drop(page, composer, [{ name: 'page.svg', type: 'image/svg+xml', base64: btoa('<svg/>') }]);
  await page.getByText('Only PNG, JPEG, GIF and WebP images can be attached').waitFor();
  // An image a byte over its size: refused before anything is asked of the server.
  await drop(page, composer, [{ name: 'huge.png', type: 'image/png', size: ATTACHMENT_LIMITS.maxBytes + 1 }]);
  await page.getByText(`The image is too large: at most ${ATTACHMENT_LIMITS.maxBytes / MIB} MiB.`).waitFor();
  expect(await page.locator('[data-testid="attachment-chip"]').count()).toBe(0);
});
