import { join } from 'node:path';
import {
  createRoom,
  hasText,
  messageRow,
  SCREENSHOTS,
  say,
  shownRoom,
  signedInAtIssuer,
  UI_TIMEOUT_MS,
  wireDevice,
} from '../helpers/browserStage';
import type { Frame } from '../helpers/chatClient';
import { anotherDevice, devicesStage, expectNotReloaded, markNotReloaded, myRoom } from '../helpers/devices';

/**
 * One person on two devices in the web chat at 1280×800, each a browser context of its own, without a reload: a
 * direct message Fern opens on her laptop shows in her phone's "Your rooms" (`myroom` with `dm`); a reply that
 * arrives while her laptop shows the thread's pane is read there, and her phone's Threads view counts it read
 * (`threadread`, pushed to the phone).
 */
jest.setTimeout(240_000);

const stage = devicesStage();

type Doc = {
  querySelector(s: string): { textContent: string | null; querySelector(s: string): unknown } | null;
};

it("a DM opened on the laptop lists on the phone, and a reply read in the laptop's open pane reads on the phone", async () => {
  const laptop = await signedInAtIssuer(stage, 'fern');
  const phone = await anotherDevice(stage, 'fern');
  await markNotReloaded(phone);
  const gus = await wireDevice(stage, 'sub-gus-live', 'gus');
  const code = await createRoom(laptop);
  await gus.expectReply({ action: 'joinroom', roomId: code });
  await myRoom(phone, code).waitFor();

  // The laptop opens a DM with Gus from the room's members: the phone lists it, named after him.
  await laptop
    .locator('[data-testid="member-item"][data-username="gus"] [data-testid="member-message"]')
    .click();
  await laptop.locator('[data-testid="room-code"][data-room-id]').filter({ hasText: '✉ gus' }).waitFor();
  const dmRoom = await shownRoom(laptop);
  expect(dmRoom).not.toBe(code);
  await hasText(myRoom(phone, dmRoom).locator('button'), '✉ gus');

  // Back in the room, Fern asks; Gus answers in the thread; the laptop opens its pane (its page reads the reply).
  await myRoom(laptop, code).locator('button').click();
  await laptop.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor();
  await say(laptop, 'picnic on sunday?');
  const root = await gus.next(
    (f: Frame) => f.type === 'message' && f.text === 'picnic on sunday?',
    UI_TIMEOUT_MS,
    'the root',
  );
  await gus.expectReply({
    action: 'sendmessage',
    message: 'count me in',
    threadOf: root.seq,
    clientMsgId: 't1',
  });
  await messageRow(laptop, 'picnic on sunday?').hover();
  await messageRow(laptop, 'picnic on sunday?').getByTestId('thread-message').click();
  await laptop.getByTestId('thread-reply').filter({ hasText: 'count me in' }).waitFor();

  // The phone's Threads view lists it, read.
  await phone.getByTestId('threads-view-button').click();
  const item = phone.getByTestId('my-thread');
  await hasText(item.locator('.my-thread-summary'), '1 reply · gus');

  // A reply while the laptop's pane stays open: shown there, and read on the phone too (no unread count).
  await gus.expectReply({
    action: 'sendmessage',
    message: 'bringing lemonade',
    threadOf: root.seq,
    clientMsgId: 't2',
  });
  await laptop.getByTestId('thread-reply').filter({ hasText: 'bringing lemonade' }).waitFor();
  await phone.waitForFunction(
    () => {
      const row = (globalThis as unknown as { document: Doc }).document.querySelector(
        '[data-testid="my-thread"]',
      );
      const summary = row?.querySelector('.my-thread-summary') as { textContent: string | null } | null;
      return (
        summary?.textContent === '2 replies · gus' &&
        row?.querySelector('[data-testid="my-thread-unread"]') === null
      );
    },
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
  expect(await item.count()).toBe(1);
  await expectNotReloaded(phone);
  await phone.screenshot({ path: join(SCREENSHOTS, 'other-device-dm-and-thread.png') });
  await gus.close();
});
