import type { Locator } from 'playwright-core';
import { UI_TIMEOUT_MS } from './browserStage';

/** What a person sees of an element: whole in the window, not covered, the page no wider than the window. */

interface Geometry {
  whole: boolean;
  onTop: boolean;
  rect: string;
  pageWidth: number;
  window: number[];
}

/** The element's box against the window, whether it is the element a tap at its centre reaches, and the page's width. */
function geometry(item: Locator): Promise<Geometry> {
  return item.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const w = globalThis as unknown as {
      innerWidth: number;
      innerHeight: number;
      document: {
        documentElement: { scrollWidth: number };
        elementFromPoint(x: number, y: number): unknown;
      };
    };
    const hit = w.document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return {
      whole:
        r.width > 0 &&
        r.height > 0 &&
        r.left >= 0 &&
        r.top >= 0 &&
        r.right <= w.innerWidth &&
        r.bottom <= w.innerHeight,
      onTop: hit === el || (el as unknown as { contains(n: unknown): boolean }).contains(hit),
      rect: JSON.stringify(r),
      pageWidth: w.document.documentElement.scrollWidth,
      window: [w.innerWidth, w.innerHeight],
    };
  });
}

/**
 * Whether the element is whole in the window and on top, and the page no wider than `width`, once the page has settled
 * (rows and panels are drawn as frames come in): read until it holds or the UI timeout passes, never at one instant.
 * On failure the last reading is logged.
 */
export async function fits(item: Locator, width: number): Promise<boolean> {
  const giveUpAt = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const seen = await geometry(item);
    if (seen.whole && seen.onTop && seen.pageWidth <= width) return true;
    if (Date.now() > giveUpAt) {
      console.log('does not fit the window', seen);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
