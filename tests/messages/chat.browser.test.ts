import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  joinRoom,
  SCREENSHOTS,
  send,
  signInByName,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';
import { deleteConnection } from '../helpers/localCloud';

/**
 * The web client in web/ in Chromium (tests/helpers/browser.ts finds one), against the local cloud that serves it: two people chat in a room,
 * one of them misses messages while away and catches up, and hostile names and texts stay plain text.
 */
jest.setTimeout(240_000);

const ROOM_CODE = /^[A-HJ-NP-Z2-9]{8}$/;
const HOSTILE = '<img src=x onerror=alert(1)>';
// Names are an allowlist (docs/SECURITY.md, "Identity and names"), so markup cannot be a name; the name that comes
// closest carries the allowlist's characters that mean something to a quoted attribute or an address.
const HOSTILE_NAME = "mal'lory@x.io";

/** The little of the DOM the in-page functions below touch (tsconfig has no "dom" lib: these tests run in Node). */
interface Row {
  dataset: Record<string, string | undefined>;
  querySelector(selector: string): { textContent: string | null } | null;
}
type PageGlobals = { document: { querySelectorAll(selector: string): Iterable<Row> } };

const stage = browserStage();
/** Dialogs (alert, confirm…) any page opened: injected markup running script would show here. */
const dialogs: string[] = [];

/**
 * A person in their own browser profile (own localStorage), signed in with a name and online in the lobby. With the
 * page's animations on, as most people have them: the other browser tests ask for reduced motion
 * (tests/helpers/browser.ts TEST_CONTEXT_DEFAULTS), so this file is where an animation in the way would show.
 */
async function person(username: string): Promise<Page> {
  const page = await stage.newPage({ width: 1100, height: 760 }, { reducedMotion: 'no-preference' });
  page.on('dialog', (dialog) => {
    dialogs.push(`${username}: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  await signInByName(page, stage.cloud.httpUrl, username, 'visible');
  return page;
}

async function roomShown(page: Page): Promise<string> {
  return (await page.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
}

/** The confirmed messages on screen, top to bottom. */
function shownMessages(page: Page): Promise<{ seq: number; username: string; text: string }[]> {
  return page.locator('[data-testid="message"][data-seq]').evaluateAll((rows) =>
    rows.map((row) => ({
      seq: Number((row as unknown as Row).dataset.seq),
      username: (row as unknown as Row).dataset.username ?? '',
      text: (row as unknown as Row).querySelector('.msg-text')?.textContent ?? '',
    })),
  );
}

/** Waits until the page shows exactly these texts as confirmed messages, in this order. */
async function waitForTexts(page: Page, texts: string[]): Promise<void> {
  await page
    .waitForFunction(
      (expected) => {
        const { document } = globalThis as unknown as PageGlobals;
        const shown = [...document.querySelectorAll('[data-testid="message"][data-seq]')].map(
          (row) => row.querySelector('.msg-text')?.textContent ?? '',
        );
        return JSON.stringify(shown) === JSON.stringify(expected);
      },
      texts,
      { timeout: UI_TIMEOUT_MS },
    )
    .catch(async (error: Error) => {
      throw new Error(
        `${error.message}\nexpected ${JSON.stringify(texts)}\nshown ${JSON.stringify(await shownMessages(page))}`,
      );
    });
}

async function waitForMembers(page: Page, names: string[]): Promise<void> {
  await page.waitForFunction(
    (expected) => {
      const { document } = globalThis as unknown as PageGlobals;
      const shown = [...document.querySelectorAll('[data-testid="member-item"]')].map(
        (li) => li.dataset.username ?? '',
      );
      return JSON.stringify([...shown].sort()) === JSON.stringify([...expected].sort());
    },
    names,
    { timeout: UI_TIMEOUT_MS },
  );
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

it('two people chat in a room by code, see each other in seq order, and one catches up after being away', async () => {
  const alice = await person('alice');
  const bob = await person('bob');

  await alice.getByTestId('create-room-button').click();
  await alice.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = await roomShown(alice);
  expect(code).toMatch(ROOM_CODE);
  expect(await alice.getByTestId('invite-code').textContent()).toBe(code);

  await joinRoom(bob, code);
  await waitForMembers(alice, ['alice', 'bob']);
  await waitForMembers(bob, ['alice', 'bob']);

  const conversation = ['hi bob, this is our room', 'hi alice!', 'shall we test the history?', 'sure'];
  await send(alice, conversation[0] as string);
  await waitForTexts(bob, conversation.slice(0, 1));
  await send(bob, conversation[1] as string);
  await waitForTexts(alice, conversation.slice(0, 2));
  // Seq order is the order the room accepted the sends, not the order keys were pressed in two browsers: bob
  // answers once alice's message is confirmed on her screen (it has its seq), so the room has taken it first.
  await send(alice, conversation[2] as string);
  await waitForTexts(alice, conversation.slice(0, 3));
  await send(bob, conversation[3] as string);
  for (const page of [alice, bob]) await waitForTexts(page, conversation);
  for (const page of [alice, bob]) {
    const shown = await shownMessages(page);
    expect(shown.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(shown.map((m) => m.username)).toEqual(['alice', 'bob', 'alice', 'bob']);
  }
  await screenshot(alice, 'room-alice');
  await screenshot(bob, 'room-bob');

  // Bob's tab goes away (its socket closes) while alice keeps talking, then he opens the same address again.
  const roomUrl = bob.url();
  expect(roomUrl).toContain(`room=${code}`);
  // The address carries the room's invite key, so reopening it (or sharing it) joins without spending a guess.
  expect(roomUrl).toMatch(/[#&]key=[A-Za-z0-9_-]{16}(&|$)/);
  await bob.goto('about:blank');
  await waitForMembers(alice, ['alice']);
  const missed = ['bob, are you there?', 'you will read this later'];
  for (const text of missed) await send(alice, text);
  await waitForTexts(alice, [...conversation, ...missed]);

  await bob.goto(roomUrl);
  await bob.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  await bob.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await waitForTexts(bob, [...conversation, ...missed]);
  expect((await shownMessages(bob)).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  await waitForMembers(alice, ['alice', 'bob']);
  await waitForMembers(bob, ['alice', 'bob']);

  // And the conversation goes on both ways after the catch-up.
  await send(bob, 'back, and I read everything');
  await waitForTexts(alice, [...conversation, ...missed, 'back, and I read everything']);
  await screenshot(bob, 'room-bob-after-catch-up');
});

it('a hostile username and message are shown as literal text, and no element or script comes of them', async () => {
  const host = await person('host');
  const mallory = await person(HOSTILE_NAME);

  await host.getByTestId('create-room-button').click();
  await host.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = await roomShown(host);
  await joinRoom(mallory, code);
  await waitForMembers(host, ['host', HOSTILE_NAME]);

  const hostileText = `${HOSTILE}<script>alert(2)</script><b>bold?</b>`;
  await send(mallory, hostileText);
  await waitForTexts(host, [hostileText]);
  await waitForTexts(mallory, [hostileText]);

  for (const page of [host, mallory]) {
    const injected = await page
      .locator(
        '[data-testid="message-list"] img, [data-testid="message-list"] script, [data-testid="message-list"] b, [data-testid="member-list"] img',
      )
      .count();
    expect(injected).toBe(0);
    const author = page.locator(`[data-testid="message"][data-seq="1"]`);
    expect(await author.getAttribute('data-username')).toBe(HOSTILE_NAME);
    expect(await author.locator('.msg-text').textContent()).toBe(hostileText);
    expect(await page.getByTestId('member-list').textContent()).toContain(HOSTILE_NAME);
  }
  expect(await mallory.getByTestId('me-name').textContent()).toBe(HOSTILE_NAME);
  expect(dialogs).toEqual([]);
  await screenshot(host, 'hostile-text-host');
});

it('a name outside the allowlist is refused in the name dialog, saying what a name may hold', async () => {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await page.goto(stage.cloud.httpUrl);
  for (const refused of [HOSTILE, 'alice\u2800', 'al\uFFF9ice', 'alice (2)']) {
    await page.getByTestId('username-input').fill(refused);
    await page.getByTestId('username-submit').click();
    await page
      .getByTestId('username-hint')
      .filter({ hasText: "Letters, digits, spaces and ' - _ . @ only." })
      .waitFor();
    expect(await page.getByTestId('username-dialog').isVisible()).toBe(true);
  }
  await page.getByTestId('username-input').fill('alice');
  await page.getByTestId('username-submit').click();
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect(await page.getByTestId('me-name').textContent()).toBe('alice');
});

it('a dropped connection comes back by itself, in the same room, with what was said meanwhile', async () => {
  const alice = await person('carol');
  const bob = await person('dan');
  await alice.getByTestId('create-room-button').click();
  await alice.locator('[data-testid="invite-code"]').filter({ hasText: ROOM_CODE }).waitFor();
  const code = await roomShown(alice);
  await joinRoom(bob, code);
  await send(bob, 'before the drop');
  await waitForTexts(alice, ['before the drop']);

  // The gateway drops bob (DELETE @connections, as an operator or the 2-hour cap would) while alice talks.
  const connectionId = await bob.evaluate(async () => {
    const page = globalThis as unknown as {
      roomcast: { client: { info(): Promise<{ connectionId: string }> } };
    };
    return (await page.roomcast.client.info()).connectionId;
  });
  expect(await deleteConnection(stage.cloud.gateway.callbackUrl, connectionId)).toBe('closed');
  const missed = ['said while dan was away', 'and one more'];
  for (const text of missed) await send(alice, text);

  await bob.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await waitForTexts(bob, ['before the drop', ...missed]);
  await bob.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  expect((await shownMessages(bob)).map((m) => m.seq)).toEqual([1, 2, 3]);
  await send(bob, 'I am back');
  await waitForTexts(alice, ['before the drop', ...missed, 'I am back']);
  await screenshot(bob, 'dropped-and-back');
});
