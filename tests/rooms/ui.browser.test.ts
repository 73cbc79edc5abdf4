import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { browserStage, joinRoom, SCREENSHOTS, send, signInByName } from '../helpers/browserStage';

/**
 * What a user sees at the chat page's edges, in Chromium against the local cloud: the lobby's member count, the
 * member list at 1280×800, day separators, errors shown once and never over the send button, links that are safe
 * to click, avatar colours that tell names apart, and the broadcast page in the chat's style.
 */
jest.setTimeout(240_000);

const ROOM_CODE = /^[A-HJ-NP-Z2-9]{8}$/;
const DAY_MS = 24 * 60 * 60 * 1000;

const stage = browserStage();

async function person(
  username: string,
  viewport = { width: 1280, height: 800 },
  before?: (page: Page) => Promise<void>,
): Promise<Page> {
  const page = await stage.newPage(viewport);
  await before?.(page);
  await signInByName(page, stage.cloud.httpUrl, username);
  return page;
}

async function box(locator: Locator) {
  const b = await locator.boundingBox();
  if (!b) throw new Error('not laid out');
  return b;
}

async function createRoom(host: Page, guests: Page[]): Promise<string> {
  await host.getByTestId('create-room-button').click();
  await host.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = (await host.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
  for (const guest of guests) {
    await joinRoom(guest, code);
  }
  return code;
}

/** The little of the DOM the in-page functions touch (tsconfig has no "dom" lib: these tests run in Node). */
type PageGlobals = {
  getComputedStyle(el: unknown): {
    backgroundColor: string;
    fontFamily: string;
    color: string;
    borderRadius: string;
  };
};

/** Names whose old avatar hue (hash % 360) was the same: the colour told them apart no better than a coin. */
function sameOldHue(): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i++) {
    const name = `user${i}`;
    let x = 0;
    for (const ch of name) x = (x * 31 + (ch.codePointAt(0) as number)) >>> 0;
    const other = seen.get(x % 360);
    if (other) return [other, name];
    seen.set(x % 360, name);
  }
}

it('the lobby counts who is there, and a room of three lists all of them unclipped at 1280×800 in distinct colours', async () => {
  const [first, second] = sameOldHue();
  const a = await person(first);
  const b = await person(second);
  // Two people chat in the lobby (which sends no presence frames): each counts both.
  await send(a, 'anyone in the lobby?');
  await send(b, 'me!');
  for (const page of [a, b]) {
    await page.locator('[data-testid="member-count"]').filter({ hasText: /^2$/ }).waitFor();
    expect(await page.getByTestId('member-item').count()).toBe(2);
  }

  const c = await person('carol');
  await createRoom(a, [b, c]);
  const items = a.getByTestId('member-item');
  await a.locator('[data-testid="member-count"]').filter({ hasText: /^3$/ }).waitFor();
  // A 1280×800 viewport, and a 1280×800 window (about 690 px of page under the browser's own bars).
  for (const height of [800, 690]) {
    await a.setViewportSize({ width: 1280, height });
    for (let i = 0; i < 3; i++) {
      const item = items.nth(i);
      const r = await box(item);
      expect(r.y).toBeGreaterThanOrEqual(0);
      expect(r.y + r.height).toBeLessThanOrEqual(height); // in the window, without scrolling
      // Nothing covers it and no scroll box cuts it: the element at its centre is the item itself.
      const hit = await a.evaluate(
        ({ x, y }) => {
          const el = (
            globalThis as unknown as { document: { elementFromPoint(x: number, y: number): unknown } }
          ).document.elementFromPoint(x, y) as {
            closest(s: string): { dataset: { username?: string } } | null;
          } | null;
          return el?.closest('[data-testid="member-item"]')?.dataset.username ?? null;
        },
        { x: r.x + r.width / 2, y: r.y + r.height / 2 },
      );
      expect(hit).toBe(await item.getAttribute('data-username'));
    }
  }
  const colours = await a
    .locator('[data-testid="member-item"] .avatar')
    .evaluateAll((els) =>
      els.map((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).backgroundColor),
    );
  expect(new Set(colours).size).toBe(3);
  await a.setViewportSize({ width: 1280, height: 800 });
  await a.screenshot({ path: join(SCREENSHOTS, 'room-of-three-1280x800.png') });
});

it('puts a day separator between messages of different days', async () => {
  // The gateway's frames pass through unchanged, except that a message whose text starts with "yesterday:" is
  // dated a day earlier, as a message sent yesterday would be.
  const backdate = (m: Record<string, unknown>) => {
    if (typeof m.text === 'string' && m.text.startsWith('yesterday:'))
      m.sentAt = new Date(Date.now() - DAY_MS).toISOString();
  };
  const page = await person('dora', undefined, (p) =>
    p.routeWebSocket(/\/prod/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((data) => {
        try {
          const frame = JSON.parse(String(data));
          if (frame.type === 'message') backdate(frame);
          for (const m of [...(frame.messages ?? []), ...(frame.history ?? [])]) backdate(m);
          ws.send(JSON.stringify(frame));
        } catch {
          ws.send(data);
        }
      });
    }),
  );
  await createRoom(page, []);
  await send(page, 'yesterday: the first one');
  await send(page, 'the second one');
  await page.locator('[data-testid="message"][data-seq="2"]').waitFor();
  const order = await page
    .getByTestId('message-list')
    .locator(':scope > *')
    .evaluateAll((els) =>
      els.map((el) => {
        const e = el as unknown as { dataset: { testid?: string; seq?: string }; textContent: string };
        return e.dataset.testid === 'day-separator' ? `-- ${e.textContent} --` : `#${e.dataset.seq}`;
      }),
    );
  expect(order).toEqual(['-- Yesterday --', '#1', '-- Today --', '#2']);
});

it('shows an error in one place, and a notification never covers the send button', async () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    const page = await person(`erin${viewport.width}`, viewport);
    // A code that names no room, typed: the reason shows under the field, once.
    if (viewport.width < 600) await page.getByTestId('sidebar-toggle').click();
    await page.getByTestId('join-input').fill('ZZZZZZ');
    await page.getByTestId('join-button').click();
    await page.locator('[data-testid="join-hint"].is-error').waitFor();
    const reason = (await page.getByTestId('join-hint').textContent()) ?? '';
    expect(reason).not.toBe('');
    expect(await page.getByTestId('toast').count()).toBe(0);
    expect((await page.locator('body').innerText()).split(reason).length - 1).toBe(1);
    await page.keyboard.press('Escape');

    // The same room from a link: a notification, clear of the composer.
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = 'room=ZZZZZZ';
    });
    const toast = page.getByTestId('toast').first();
    await toast.waitFor();
    await page.getByTestId('composer-input').fill('typing while the notification shows');
    const t = await box(toast);
    const sendButton = await box(page.getByTestId('send-button'));
    const overlaps =
      t.x < sendButton.x + sendButton.width &&
      sendButton.x < t.x + t.width &&
      t.y < sendButton.y + sendButton.height &&
      sendButton.y < t.y + t.height;
    expect(overlaps).toBe(false);
    await page.screenshot({ path: join(SCREENSHOTS, `error-once-${viewport.width}.png`) });
  }
});

it('makes http(s) links clickable and safe, and nothing else a link', async () => {
  const sender = await person('fay');
  const reader = await person('gus');
  await createRoom(sender, [reader]);
  const text =
    'see https://example.com/a?b=1, or javascript:alert(1) and data:text/html,hi <a href="x">x</a>';
  await send(sender, text);
  const row = reader.locator('[data-testid="message"][data-seq="1"]');
  await row.waitFor();
  expect(await row.locator('.msg-text').textContent()).toBe(text);
  const links = await row.locator('a').evaluateAll((as) =>
    as.map((a) => ({
      href: (a as never as { href: string }).href,
      rel: (a as never as { rel: string }).rel,
      target: (a as never as { target: string }).target,
    })),
  );
  expect(links).toEqual([
    { href: 'https://example.com/a?b=1', rel: 'noopener noreferrer', target: '_blank' },
  ]);
});

it("the broadcast page wears the chat's style", async () => {
  const chat = await person('hal');
  const page = await (await stage.newContext({ width: 1280, height: 800 })).newPage();
  await page.goto(`${stage.cloud.httpUrl}/broadcast.html`);
  await page.locator('form[data-ready="true"]').waitFor();
  const style = (p: Page, selector: string) =>
    p.locator(selector).evaluate((el) => {
      const s = (globalThis as unknown as PageGlobals).getComputedStyle(el);
      return { font: s.fontFamily, background: s.backgroundColor, color: s.color, radius: s.borderRadius };
    });
  expect(await style(page, 'body')).toEqual(await style(chat, 'body'));
  expect(await style(page, '[data-testid="broadcast-send"]')).toEqual(
    await style(chat, '[data-testid="create-room-button"]'),
  );
  expect(await style(page, '[data-testid="broadcast-room"]')).toEqual(
    await style(chat, '[data-testid="username-input"]'),
  );
  await page.screenshot({ path: join(SCREENSHOTS, 'broadcast-page.png') });
});
