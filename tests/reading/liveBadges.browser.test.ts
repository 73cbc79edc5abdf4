import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  browserStage,
  hasText,
  roomOfTwo,
  SCREENSHOTS,
  say,
  shownRoom,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * Live unread badges in the web chat (issue 43): Alice is in rooms A and B and a direct message Bob opened to her.
 * After a reload (a fresh start: `myrooms`, then ONE `subscribe` for them all) she shows A; Bob posts in B, in the
 * DM and in A in turn. Each of her badges rises without her switching and without her page asking anything between
 * Bob's Enter and the badge (no polling: the message reaches her connection because it follows the room), and A's
 * message appears in her open room live. Switching rooms in the sidebar keeps the one connection. Prints each
 * badge's latency (Bob's Enter -> Alice's badge text); speed is the benchmark's to judge, not this test's.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

/** Answers after which the client asks a `subscribe` again (client/members.ts SUBSCRIBE_RETRY). */
const RETRIED = new Set(['BUSY', 'INTERNAL']);

/**
 * The page's WebSocket frames out, parsed: to count `subscribe` and `myrooms`, and which rooms each subscribe names;
 * and the `subscribe` answers the client asks again after (an error frame, or rooms refused, BUSY or INTERNAL).
 */
function framesSent(page: Page): {
  actions: string[];
  subscribed: string[][];
  sockets: number;
  retriedAnswers: number;
} {
  const seen = { actions: [] as string[], subscribed: [] as string[][], sockets: 0, retriedAnswers: 0 };
  page.on('websocket', (ws) => {
    seen.sockets += 1;
    ws.on('framereceived', ({ payload }) => {
      try {
        const frame = JSON.parse(String(payload));
        const refused = (frame.refused ?? []) as { code?: string }[];
        if (
          (frame.type === 'error' && frame.action === 'subscribe' && RETRIED.has(frame.code)) ||
          (frame.type === 'subscribed' && refused.some((r) => RETRIED.has(String(r.code))))
        )
          seen.retriedAnswers += 1;
      } catch {
        // not JSON: not ours to count
      }
    });
    ws.on('framesent', ({ payload }) => {
      try {
        const frame = JSON.parse(String(payload));
        seen.actions.push(String(frame.action));
        if (frame.action === 'subscribe')
          seen.subscribed.push((frame.rooms as { roomId: string }[]).map((r) => r.roomId).sort());
      } catch {
        // not JSON: not ours to count
      }
    });
  });
  return seen;
}

/** Records, in the page, when each "Your rooms" row's unread badge text changes (Date.now(), same clock as Jest). */
async function watchBadges(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as {
      badgeAt: Record<string, { text: string; at: number }[]>;
      document: {
        querySelector(s: string): { querySelectorAll(s: string): Iterable<unknown> } | null;
      };
      MutationObserver: new (
        cb: () => void,
      ) => { observe(target: unknown, options: Record<string, boolean>): void };
    };
    w.badgeAt = {};
    const list = w.document.querySelector('[data-testid="my-rooms-list"]');
    const record = () => {
      for (const li of (list?.querySelectorAll('[data-testid="my-room"]') ?? []) as Iterable<{
        dataset: { roomId: string };
        querySelector(s: string): { textContent: string } | null;
      }>) {
        const text = li.querySelector('[data-testid="unread-badge"]')?.textContent ?? '';
        const seen = w.badgeAt[li.dataset.roomId] ?? [];
        w.badgeAt[li.dataset.roomId] = seen;
        if (seen.at(-1)?.text !== text) seen.push({ text, at: Date.now() });
      }
    };
    record();
    new w.MutationObserver(record).observe(list, { childList: true, subtree: true, characterData: true });
  });
}

/** When the room's badge first showed `text` (ms since the epoch), once it has. */
async function badgeShownAt(page: Page, roomId: string, text: string): Promise<number> {
  await hasText(
    page.locator(`[data-testid="my-room"][data-room-id="${roomId}"] [data-testid="unread-badge"]`),
    text,
    UI_TIMEOUT_MS,
  );
  return page.evaluate(
    ([id, t]) =>
      (globalThis as unknown as { badgeAt: Record<string, { text: string; at: number }[]> }).badgeAt[
        id as string
      ]?.find((b) => b.text === t)?.at ?? Number.NaN,
    [roomId, text],
  );
}

/** Bob opens `roomId` from his "Your rooms" (or is there), then posts `text`: when he pressed Enter. */
async function postIn(bob: Page, roomId: string, text: string): Promise<number> {
  if ((await shownRoom(bob)) !== roomId) {
    await bob.locator(`[data-testid="my-room"][data-room-id="${roomId}"] button`).first().click();
    await bob.locator(`[data-testid="room-code"][data-room-id="${roomId}"]`).waitFor();
  }
  await bob.getByTestId('composer-input').fill(text);
  const sentAt = Date.now();
  await bob.getByTestId('composer-input').press('Enter');
  return sentAt;
}

it("rises each room's and the DM's unread badge live, without switching, and shows the open room's messages", async () => {
  const alice = await signedInAtIssuer(stage, 'alice');
  const bob = await signedInAtIssuer(stage, 'bob');
  const roomA = await roomOfTwo(alice, bob);
  const roomB = await roomOfTwo(alice, bob);

  // Bob opens a direct message to Alice from B's member list; she is told, and it is in her rooms.
  await bob
    .locator('[data-testid="member-item"][data-username="alice"] [data-testid="member-message"]')
    .click();
  await bob.waitForFunction(
    ([a, b]) => {
      const id = (
        globalThis as unknown as {
          document: { querySelector(s: string): { dataset: { roomId?: string } } | null };
        }
      ).document.querySelector('[data-testid="room-code"]')?.dataset.roomId;
      return id !== undefined && id !== a && id !== b && id !== 'lobby';
    },
    [roomA, roomB],
  );
  const dm = await shownRoom(bob);
  await alice.locator(`[data-testid="my-room"][data-room-id="${dm}"]`).waitFor();

  // A fresh start: Alice reloads. Her page asks myrooms once and follows every room in ONE subscribe.
  const sent = framesSent(alice);
  await alice.reload();
  await alice.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  for (const id of [roomA, roomB, dm])
    await alice.locator(`[data-testid="my-room"][data-room-id="${id}"]`).waitFor();
  // She opens A from the sidebar: the same connection.
  await alice.locator(`[data-testid="my-room"][data-room-id="${roomA}"] button`).click();
  await alice.locator(`[data-testid="room-code"][data-room-id="${roomA}"]`).waitFor();
  expect(sent.sockets).toBe(1);
  // Every room in the first subscribe (a later one, 2 s on, only asks quiet rooms again: docs/CLIENT.md).
  expect(sent.subscribed[0]).toEqual([roomA, roomB, dm].sort());
  expect(sent.actions.filter((a) => a === 'myrooms')).toHaveLength(1);
  await watchBadges(alice);
  // The client's one later look at quiet rooms (2 s after the subscribe) goes out before Bob posts, so that from
  // here on any frame Alice sends that asks for a room's messages would be a poll.
  for (const until = Date.now() + UI_TIMEOUT_MS; sent.subscribed.length < 2 && Date.now() < until; )
    await new Promise((resolve) => setTimeout(resolve, 100));
  expect(sent.subscribed).toHaveLength(2);
  const ASKING = new Set(['myrooms', 'history', 'subscribe']);
  const askedSince = (from: number) => sent.actions.slice(from).filter((a) => ASKING.has(a));

  // First in A, the room she shows: the message appears live in her list, and A gets no badge. (Also the stage's
  // first post: it warms the functions, so its time is reported apart.)
  const sentInA = await postIn(bob, roomA, 'hello in A');
  await alice
    .locator('[data-testid="message-list"] [data-testid="message"][data-seq]')
    .filter({ hasText: 'hello in A' })
    .waitFor();
  const openRoomMs = Date.now() - sentInA;
  expect(
    await alice
      .locator(`[data-testid="my-room"][data-room-id="${roomA}"] [data-testid="unread-badge"]`)
      .count(),
  ).toBe(0);

  // Then B and the DM in turn, twice each: her badges rise while she stays in A.
  const latencies: Record<string, number> = {};
  for (const [name, roomId] of [
    ['B', roomB],
    ['DM', dm],
  ] as const) {
    const before = sent.actions.length;
    const sentAt = await postIn(bob, roomId, `hello in ${name}`);
    latencies[`${name} 1`] = (await badgeShownAt(alice, roomId, '1')) - sentAt;
    const again = await postIn(bob, roomId, `again in ${name}`);
    latencies[`${name} 2`] = (await badgeShownAt(alice, roomId, '2')) - again;
    // Live, not polled: nothing Alice's page sent from Bob's first Enter to her second badge asked for messages,
    // but a `subscribe` the server answered BUSY asking again (a retry under load, docs/CLIENT.md; it failed a CI run).
    const asked = askedSince(before);
    const subscribes = asked.filter((a) => a === 'subscribe').length;
    expect([name, asked.filter((a) => a !== 'subscribe')]).toEqual([name, []]);
    expect([name, subscribes]).toEqual([name, Math.min(subscribes, sent.retriedAnswers)]);
  }
  expect(await shownRoom(alice)).toBe(roomA);
  await hasText(alice.getByTestId('my-rooms-unread'), '4 unread');
  await alice.screenshot({ path: join(SCREENSHOTS, 'live-badges.png') });
  console.log(
    `badge latency (Bob's Enter -> Alice's badge), ms: ${JSON.stringify(latencies)}; open room's message shown: ${openRoomMs} ms`,
  );
  // Still one connection, and no myrooms asked again.
  expect(sent.sockets).toBe(1);
  expect(sent.actions.filter((a) => a === 'myrooms')).toHaveLength(1);
  await say(alice, 'seen them all');
});
