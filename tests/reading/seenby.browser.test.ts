import type { Page } from 'playwright-core';
import { browserStage, hasText, joinRoom, SCREENSHOTS, signInByName } from '../helpers/browserStage';
import { ChatClient } from '../helpers/chatClient';

/**
 * "Seen by" in the web chat (web/seenby.js): under her own latest message Alice sees who of the room has read it,
 * names only of those whose read position reached it, kept current as they read by the `seen` frames the server
 * pushes: the page asks `seenby` once when the room is shown, never after each event. Bob reads in Chromium; Dave is
 * a member connected without the web chat, who reads only when he says so (markread).
 */
jest.setTimeout(240_000);

const stage = browserStage();
/** A read position reaches the page pushed; a page's own markread waits up to 5 s (client/members.ts). */
const PUSHED_WITHIN_MS = 15_000;

/**
 * A person in the lobby; `sent` gets each frame the page sends, from its first. The page's clock is Playwright's
 * (running as the machine's until the test moves it on), so a wait of the page's own timers is a step of the test.
 */
async function person(username: string, sent: (frame: string) => void = () => {}): Promise<Page> {
  const page = await stage.newPage({ width: 1100, height: 760 });
  await page.clock.install();
  page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => sent(String(payload))));
  await signInByName(page, stage.cloud.httpUrl, username, 'visible');
  return page;
}

const ownRow = (page: Page, text: string) =>
  page.locator('[data-testid="message"][data-seq]').filter({ hasText: text });

async function say(page: Page, text: string): Promise<number> {
  await page.getByTestId('composer-input').fill(text);
  await page.getByTestId('composer-input').press('Enter');
  return Number(await ownRow(page, text).getAttribute('data-seq'));
}

it('alice sees who has read her latest message, kept current by pushed reads, asking once for the room', async () => {
  let asks = 0;
  const alice = await person('alice', (frame) => {
    if (frame.includes('"action":"seenby"')) asks += 1;
  });
  const bob = await person('bob');
  await alice.getByTestId('create-room-button').click();
  await alice.locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"])').waitFor();
  const code = (await alice.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
  const key = new URLSearchParams(new URL(alice.url()).hash.slice(1)).get('key');
  await joinRoom(bob, code);
  const dave = await ChatClient.connect(stage.cloud.wsUrl, 'dave');
  await dave.expectReply({ action: 'joinroom', roomId: code, ...(key && { key }) });
  await alice.locator('[data-testid="member-item"][data-username="dave"]').waitFor();

  // Bob's page shows the message, so it is read; Dave has not read it: only Bob is named.
  const lunch = await say(alice, 'lunch at noon?');
  await bob.locator('[data-testid="message"]').filter({ hasText: 'lunch at noon?' }).waitFor();
  const lunchSeen = ownRow(alice, 'lunch at noon?').getByTestId('seen-by');
  await hasText(lunchSeen, 'Seen by bob', PUSHED_WITHIN_MS);
  // One ask, when the room was shown; Bob's read came pushed.
  expect(asks).toBe(1);
  expect(await bob.getByTestId('seen-by').count()).toBe(0); // Bob has no message of his own to show it under

  // Dave reads it; Alice's page learns it without anything else happening in the room, and without asking.
  await dave.expectReply({ action: 'markread', seq: lunch });
  await hasText(lunchSeen, 'Seen by bob and dave', PUSHED_WITHIN_MS);
  await alice.screenshot({ path: `${SCREENSHOTS}/seenby.png` });

  // Bob chatting on costs no asks from Alice's page.
  for (const text of ['sure', 'where?', 'the usual place']) await say(bob, text);
  await alice.locator('[data-testid="message"]').filter({ hasText: 'the usual place' }).waitFor();
  // Past any timer the page set meanwhile (its markread's 5 s among them): one fired later would have asked by the
  // next step's end, where the count is checked again.
  await alice.clock.runFor(7000);
  expect(asks).toBe(1);

  // Her next message takes the line; Dave has not read that one.
  await say(alice, 'see you there');
  await hasText(ownRow(alice, 'see you there').getByTestId('seen-by'), 'Seen by bob', PUSHED_WITHIN_MS);
  expect(asks).toBe(1);
  expect(await alice.getByTestId('seen-by').count()).toBe(1);
  await dave.close();
});
