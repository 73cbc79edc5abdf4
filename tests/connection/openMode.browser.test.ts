import type { Page } from 'playwright-core';
import { browserStage, send, signInByName, UI_TIMEOUT_MS } from '../helpers/browserStage';

/**
 * The open-mode chat page (no sign-in) as README suggests trying it, in Chromium against the local cloud: two tabs
 * of one browser are two people, a newcomer sees what was said in the lobby before they came, and a message's
 * text is its own bidi island, its direction from its own letters.
 */
jest.setTimeout(240_000);

const stage = browserStage();

/** The little of the DOM the in-page functions below touch (tsconfig has no "dom" lib: these tests run in Node). */
interface Node {
  textContent: string | null;
  firstChild: unknown;
}
type PageGlobals = {
  document: {
    createRange(): {
      setStart(node: unknown, offset: number): void;
      setEnd(node: unknown, offset: number): void;
      getBoundingClientRect(): { left: number };
    };
  };
  getComputedStyle(el: unknown): { unicodeBidi: string; direction: string };
};

/** The confirmed message with this text, once it is on screen. */
async function shown(page: Page, text: string) {
  const row = page.locator('[data-testid="message"][data-seq]').filter({ hasText: text });
  await row.waitFor();
  return row;
}

async function members(page: Page): Promise<string[]> {
  return (
    await page
      .getByTestId('member-item')
      .evaluateAll((items) =>
        items.map((li) => (li as unknown as { dataset: { username?: string } }).dataset.username ?? ''),
      )
  ).sort();
}

/** The `resume` token of every WebSocket the page opens (the scope of its `clientMsgId`s, docs/PROTOCOL.md). */
function resumeTokens(page: Page): string[] {
  const seen: string[] = [];
  page.on('websocket', (socket) => seen.push(new URL(socket.url()).searchParams.get('resume') ?? 'none'));
  return seen;
}

it('two tabs of one browser are two members: each asks for its own name, and neither shows the other as "you"', async () => {
  const context = await stage.newContext({ width: 1100, height: 760 });
  const first = await context.newPage();
  const firstTokens = resumeTokens(first);
  first.setDefaultTimeout(UI_TIMEOUT_MS);
  await signInByName(first, stage.cloud.httpUrl, 'ann');
  // The second tab shares the first one's localStorage and cookies, and still asks who is typing.
  const second = await context.newPage();
  const secondTokens = resumeTokens(second);
  second.setDefaultTimeout(UI_TIMEOUT_MS);
  await signInByName(second, stage.cloud.httpUrl, 'ben');
  expect(await second.getByTestId('me-name').textContent()).toBe('ben');
  expect(await first.getByTestId('me-name').textContent()).toBe('ann');

  await send(second, 'ben here, in the second tab');
  const seenByAnn = await shown(first, 'ben here, in the second tab');
  expect(await seenByAnn.getAttribute('data-username')).toBe('ben');
  expect(await seenByAnn.getAttribute('class')).not.toContain('is-own');
  expect(await seenByAnn.locator('.msg-author').textContent()).toBe('ben');
  const ownInBen = await shown(second, 'ben here, in the second tab');
  expect(await ownInBen.getAttribute('class')).toContain('is-own');

  await send(first, 'ann in the first tab');
  await shown(second, 'ann in the first tab');
  await first.getByTestId('refresh-members').click();
  await first.waitForFunction(
    () =>
      (
        globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
      ).document.querySelectorAll('[data-testid="member-item"]').length >= 2,
  );
  expect(await members(first)).toEqual(expect.arrayContaining(['ann', 'ben']));

  // A reload keeps the tab's own name: no question, still ann.
  await first.reload();
  await first.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect(await first.getByTestId('me-name').textContent()).toBe('ann');
  expect(await first.getByTestId('username-dialog').isVisible()).toBe(false);
  // ...and its own clientMsgId scope: the same resume token before and after the reload, not the other tab's.
  expect(firstTokens.length).toBeGreaterThanOrEqual(2);
  expect(new Set(firstTokens)).toEqual(new Set([firstTokens[0]]));
  expect(firstTokens[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  expect(secondTokens).not.toContain(firstTokens[0]);
});

it("a newcomer sees the lobby's earlier messages, not an empty lobby", async () => {
  const early = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(early, stage.cloud.httpUrl, 'early');
  const said = ['backlog: first words in the lobby', 'backlog: second words in the lobby'];
  for (const text of said) {
    await send(early, text);
    await shown(early, text);
  }

  const late = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(late, stage.cloud.httpUrl, 'late', 'visible');
  for (const text of said) await shown(late, text);
  expect(await late.getByTestId('messages-wrap').getAttribute('class')).not.toContain('is-empty');
});

it("isolates each message's text and takes its direction from its own first letter", async () => {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await signInByName(page, stage.cloud.httpUrl, 'dana');
  const hebrew = 'שלום!';
  const override = '\u202Egnp.exe';
  await send(page, hebrew);
  await send(page, override);
  for (const text of [hebrew, override]) {
    const row = await shown(page, text);
    const text$ = row.locator('.msg-text');
    // The text is exactly what was sent, and set apart from everything around it.
    expect(await text$.textContent()).toBe(text);
    expect(
      await text$.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).unicodeBidi),
    ).toBe('isolate');
  }
  // A right-to-left message reads right to left: its "!" ends it on the left, as its reader expects, rather than
  // being pushed to the right by the page's left-to-right direction.
  const hebrewText = (await shown(page, hebrew)).locator('.msg-text');
  expect(
    await hebrewText.evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).direction),
  ).toBe('rtl');
  const [bangLeft, shinLeft] = await hebrewText.evaluate((el) => {
    const { document } = globalThis as unknown as PageGlobals;
    const node = (el as unknown as Node).firstChild;
    const leftOf = (offset: number) => {
      const range = document.createRange();
      range.setStart(node, offset);
      range.setEnd(node, offset + 1);
      return range.getBoundingClientRect().left;
    };
    return [leftOf(4), leftOf(0)];
  });
  expect(bangLeft).toBeLessThan(shinLeft);
  // An override inside a message reverses only that message: its own author line reads as before.
  const overrideRow = await shown(page, override);
  expect(await overrideRow.locator('.msg-author').textContent()).toBe('dana (you)');
  expect(
    await overrideRow
      .locator('.msg-text')
      .evaluate((el) => (globalThis as unknown as PageGlobals).getComputedStyle(el).direction),
  ).toBe('ltr');
});
