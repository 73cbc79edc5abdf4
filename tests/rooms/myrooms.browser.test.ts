import { join } from 'node:path';
import { createRoomcastClient, type RoomcastClientOptions } from '@roomcast/client';
import WebSocket from 'ws';
import type { DevIssuer } from '../../tools/local/oidc';
import {
  browserStage,
  hasText,
  SCREENSHOTS,
  say,
  shownRoom,
  signedInAtIssuer,
  signedInRoom,
  UI_TIMEOUT_MS,
} from '../helpers/browserStage';

/**
 * Direct messages and "Your rooms" in the web chat (web/myrooms.js), people signed in at the local cloud's
 * development issuer (AuthMode=oidc): Ben messages Ana from the member list of a room they share, Ana finds the
 * conversation in her rooms with its unread badge (his messages, not his reaction) after a reload, opens it, and the
 * badge goes. A press on a member's "Message" held while the member list is drawn again (someone joins) still opens
 * the conversation when released. A member of more rooms than `myrooms` lists is told that the list shows only the
 * most recently active.
 */
jest.setTimeout(240_000);

/** Rooms `myrooms` lists at most (docs/PROTOCOL.md). */
const LISTED_MAX = 100;
/** Connections that create the seeded rooms side by side, each well within FrameRateLimit's 100 frames a minute. */
const SEEDERS = 4;
// One user creates more rooms than RoomCreateLimit's default 20 an hour allows.
const stage = browserStage({ AuthMode: 'oidc' }, { RoomCreateLimit: LISTED_MAX * 2 });

it('messages a member privately, and the other finds it with its unread count', async () => {
  const { owner: ana, joiner: ben, code } = await signedInRoom(stage, ['ana', 'ben']);

  // Ben's member list offers to message Ana; he does, and is in their direct room.
  await ben
    .locator('[data-testid="member-item"][data-username="ana"] [data-testid="member-message"]')
    .click();
  await ben.waitForFunction(
    (c) =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { dataset: { roomId?: string } } | null };
        }
      ).document.querySelector('[data-testid="room-code"]')?.dataset.roomId?.length === c,
    12,
  );
  const dmRoom = await shownRoom(ben);
  await say(ben, 'just between us');
  await say(ben, 'are you free later?');
  // He reacts to his first message: a reaction is no message, it adds nothing to her unread count.
  const first = ben
    .locator('[data-testid="message"][data-seq]')
    .filter({ has: ben.locator('.msg-text', { hasText: 'just between us' }) });
  await first.getByTestId('react-button').filter({ hasText: '👍' }).click();
  await first.locator('[data-testid="reaction-chip"][data-reaction="👍"]').waitFor();

  // The read positions Ana's page has had stored: each `read` reply, by room.
  const stored: { roomId: string; lastReadSeq: number }[] = [];
  ana.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      try {
        const frame = JSON.parse(String(payload));
        if (frame.type === 'read') stored.push(frame);
      } catch {}
    }),
  );
  // Ana reloads (a reconnect): her rooms list the conversation with Ben, two unread (his two messages).
  await ana.reload();
  await ana.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  // Back in the room her address names: until then the sidebar grows above her rooms (the room's invite, its members)
  // and a row she aims at moves away from under the pointer.
  await ana.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  const row = ana.locator(`[data-testid="my-room"][data-room-id="${dmRoom}"]`);
  await row.waitFor();
  await hasText(row.locator('button'), '✉ ben');
  await hasText(row.getByTestId('unread-badge'), '2');
  // The section's total says what it counts: unread messages, not rooms.
  await hasText(ana.getByTestId('my-rooms-unread'), '2 unread');
  await ana.screenshot({ path: join(SCREENSHOTS, 'myrooms-unread.png') });

  // She opens it: the messages are there, and the badge is gone, for good (after another reload too).
  await row.locator('button').click();
  await ana.locator(`[data-testid="room-code"][data-room-id="${dmRoom}"]`).waitFor();
  await ana.locator('[data-testid="message-list"] .msg-text', { hasText: 'are you free later?' }).waitFor();
  // Opened with unread messages: a "New messages" line stands above the first of them (a day's heading may follow it).
  const afterLine = ana.locator('[data-testid="new-messages"] ~ [data-testid="message"]').first();
  await hasText(afterLine.locator('.msg-text'), 'just between us');
  expect(await ana.locator('[data-testid="message"] ~ [data-testid="new-messages"]').count()).toBe(0);
  await ana
    .locator(`[data-testid="my-room"][data-room-id="${dmRoom}"] [data-testid="unread-badge"]`)
    .waitFor({
      state: 'detached',
    });
  // The read position goes out (after markRead's interval, if one went out just before) and is stored.
  const lastSeq = Number(
    await ana
      .locator('[data-testid="message"][data-seq]')
      .filter({ hasText: 'are you free later?' })
      .getAttribute('data-seq'),
  );
  for (let waited = 0; !stored.some((r) => r.roomId === dmRoom && r.lastReadSeq >= lastSeq); waited += 100) {
    if (waited > 30_000) throw new Error(`no read position at ${lastSeq} in ${dmRoom} was stored`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await ana.reload();
  await ana.locator(`[data-testid="my-room"][data-room-id="${code}"]`).waitFor();
  expect(
    await ana
      .locator(`[data-testid="my-room"][data-room-id="${dmRoom}"] [data-testid="unread-badge"]`)
      .count(),
  ).toBe(0);
});

/** A client of `username`, signed in at the development issuer, outside any browser (someone else's device). */
function clientOf(username: string) {
  const issuer = stage.cloud.devIssuer as DevIssuer;
  return createRoomcastClient({
    url: stage.cloud.wsUrl,
    getToken: async () => (await issuer.mint(username)).idToken,
    WebSocket: WebSocket as unknown as RoomcastClientOptions['WebSocket'],
    requestTimeoutMs: UI_TIMEOUT_MS,
  });
}

it('a press on a member\'s "Message" held while someone joins still opens the conversation when released', async () => {
  const { joiner: finn, code } = await signedInRoom(stage, ['eve', 'finn']);
  const message = finn.locator(
    '[data-testid="member-item"][data-username="eve"] [data-testid="member-message"]',
  );
  await message.waitFor();
  const box = await message.boundingBox();
  if (!box) throw new Error('Eve\'s "Message" button has no box');
  // Finn presses on Eve's "Message" and holds it while Gus joins: the member list is drawn again under the press
  // (Gus sorts after Eve, so nothing above her row grows and her button stays under the pointer).
  await finn.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await finn.mouse.down();
  const gus = clientOf('gus');
  try {
    await gus.ready(UI_TIMEOUT_MS);
    await gus.join(code);
    await finn.locator('[data-testid="member-item"][data-username="gus"]').waitFor();
  } finally {
    await finn.mouse.up();
    gus.close();
  }
  // The release is a click on the button he pressed: the conversation with Eve opens.
  await finn.locator('[data-testid="room-code"][data-room-id]').filter({ hasText: '✉ eve' }).waitFor();
});

/**
 * Makes `username` (as the issuer names them in the browser too) a member of `count` rooms the way the product does:
 * signed-in clients create them, SEEDERS connections side by side.
 */
async function memberOfRooms(username: string, count: number): Promise<void> {
  const clients = Array.from({ length: Math.min(SEEDERS, count) }, () => clientOf(username));
  try {
    await Promise.all(
      clients.map(async (chat, i) => {
        await chat.ready(UI_TIMEOUT_MS);
        for (let n = i; n < count; n += clients.length) await chat.createRoom();
      }),
    );
  } finally {
    for (const chat of clients) chat.close();
  }
}

it('tells a member of more rooms than it lists that it shows only the most recently active; a member of two, nothing', async () => {
  await memberOfRooms('cleo', LISTED_MAX + 1);
  const cleo = await signedInAtIssuer(stage, 'cleo');
  const more = cleo.getByTestId('myrooms-more');
  await more.waitFor({ state: 'visible' });
  await hasText(
    more,
    `Showing your ${LISTED_MAX} most recently active rooms. To open another, join it by its code.`,
  );
  expect(await cleo.getByTestId('my-room').count()).toBe(LISTED_MAX);
  await more.scrollIntoViewIfNeeded();
  await cleo.screenshot({ path: join(SCREENSHOTS, 'myrooms-more.png') });

  await memberOfRooms('dara', 2);
  const dara = await signedInAtIssuer(stage, 'dara');
  await dara.locator('[data-testid="my-room"]').nth(1).waitFor();
  expect(await dara.getByTestId('my-room').count()).toBe(2);
  expect(await dara.getByTestId('myrooms-more').isVisible()).toBe(false);
});
