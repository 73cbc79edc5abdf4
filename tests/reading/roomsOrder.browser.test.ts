import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createRoom, SCREENSHOTS, say, signedInAtIssuer, UI_TIMEOUT_MS } from '../helpers/browserStage';
import { anotherDevice, devicesStage, expectNotReloaded, markNotReloaded, myRoom } from '../helpers/devices';

/**
 * One person's "Your rooms" in the same order on each of her devices, live, without a reload (docs/DECISIONS.md, "One
 * person, many devices"): Nora has three rooms on her laptop (1280×800) and her phone (390×844, another browser profile). A
 * message she writes on the laptop in the room lowest in the list moves that room's row to the top on both devices,
 * without a reload; one she then writes on the phone in the room now lowest moves that one to the top on both. The
 * order is the server's, latest activity first by the whole second: each message goes once the clock has passed the
 * second of everything before it, so it is the latest activity of all and not a tie the room codes decide. And a row
 * moved while the pointer rests on the list leaves no other row marked as under the pointer (web/myrooms.js).
 */
jest.setTimeout(240_000);

const stage = devicesStage();

/** The rooms of "Your rooms" as the page lists them, top first. */
const order = (page: Page): Promise<string[]> =>
  page
    .getByTestId('my-room')
    .evaluateAll((rows) =>
      rows.map((row) => String((row as unknown as { dataset: { roomId: string } }).dataset.roomId)),
    );

/** Waits until the page lists exactly `rooms`, in that order, then; fails showing the order it lists. */
async function listsInOrder(page: Page, rooms: string[]): Promise<void> {
  await page
    .waitForFunction(
      (expected) =>
        Array.from(
          (
            globalThis as unknown as {
              document: { querySelectorAll(s: string): Iterable<{ dataset: { roomId?: string } }> };
            }
          ).document.querySelectorAll('[data-testid="my-room"]'),
          (row) => row.dataset.roomId,
        ).join(' ') === expected.join(' '),
      rooms,
      { timeout: UI_TIMEOUT_MS },
    )
    .catch(async () => expect(await order(page)).toEqual(rooms));
}

/**
 * Waits until the machine's clock (the local cloud's too) is in a later second than `since` (epoch ms): whatever the
 * server stamped before `since` is then older, in whole seconds, than what it stamps next.
 */
async function nextSecond(since: number): Promise<void> {
  while (Math.floor(Date.now() / 1000) <= Math.floor(since / 1000))
    await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Opens a listed room from "Your rooms" (the phone's sidebar is a drawer: opened first) and waits until it shows. */
async function openListed(page: Page, roomId: string): Promise<void> {
  if (!(await myRoom(page, roomId).isVisible())) await page.getByTestId('sidebar-toggle').click();
  await myRoom(page, roomId).locator('button').click();
  await page.locator(`[data-testid="room-code"][data-room-id="${roomId}"]`).waitFor({ state: 'attached' });
}

it('a message in the room lowest in "Your rooms" moves its row to the top on the laptop and the phone alike', async () => {
  const laptop = await signedInAtIssuer(stage, 'nora');
  const rooms = [
    await createRoom(laptop, { name: 'Garden' }),
    await createRoom(laptop, { name: 'Kitchen' }),
    await createRoom(laptop, { name: 'Attic' }),
  ];
  const phone = await anotherDevice(stage, 'nora', { viewport: { width: 390, height: 844 }, rooms });
  for (const roomId of rooms) await myRoom(laptop, roomId).waitFor({ state: 'attached' });
  await markNotReloaded(laptop, phone);
  const before = await order(laptop);
  await listsInOrder(phone, before);

  // On the laptop, Nora writes in the room lowest in the list: it goes to the top of both lists, the others keep theirs.
  const lowest = String(before.at(-1));
  await openListed(laptop, lowest);
  await nextSecond(Date.now());
  await say(laptop, 'anyone up here?');
  const afterLaptop = [lowest, ...before.filter((r) => r !== lowest)];
  await listsInOrder(laptop, afterLaptop);
  await listsInOrder(phone, afterLaptop);

  // On the phone, she writes in the room now lowest: it goes to the top of both.
  const next = String(afterLaptop.at(-1));
  await openListed(phone, next);
  await nextSecond(Date.now());
  await say(phone, 'from the phone');
  const afterPhone = [next, ...afterLaptop.filter((r) => r !== next)];
  await listsInOrder(phone, afterPhone);
  await listsInOrder(laptop, afterPhone);

  await expectNotReloaded(laptop, phone);
  await laptop.screenshot({ path: join(SCREENSHOTS, 'rooms-order-laptop.png') });
  // The phone's rooms are in its drawer.
  await phone.getByTestId('sidebar-toggle').click();
  await myRoom(phone, next).waitFor();
  await phone.screenshot({ path: join(SCREENSHOTS, 'rooms-order-phone.png') });
});

/**
 * The rooms of the page's "Your rooms" rows that show the hover background (the page's own style for a row under the
 * pointer), and the room of the row at (x, y), as one reading of the page.
 */
function hoverMarks(page: Page, at: { x: number; y: number }): Promise<{ marked: string[]; under?: string }> {
  return page.evaluate(({ x, y }) => {
    type Row = { dataset: { roomId?: string }; closest(selector: string): Row | null };
    const w = globalThis as unknown as {
      document: {
        querySelectorAll(s: string): Iterable<Row>;
        elementFromPoint(x: number, y: number): Row | null;
      };
      getComputedStyle(row: Row): { backgroundColor: string };
    };
    return {
      marked: Array.from(w.document.querySelectorAll('[data-testid="my-room"]'))
        .filter((row) => w.getComputedStyle(row).backgroundColor !== 'rgba(0, 0, 0, 0)')
        .map((row) => String(row.dataset.roomId)),
      under: w.document.elementFromPoint(x, y)?.closest('[data-testid="my-room"]')?.dataset.roomId,
    };
  }, at);
}

/** Reads the page until `holds` is true of its hover marks or the UI timeout passes: the last reading. */
async function hoverMarksUntil(
  page: Page,
  at: { x: number; y: number },
  holds: (seen: { marked: string[]; under?: string }) => boolean,
): Promise<{ marked: string[]; under?: string }> {
  const giveUpAt = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    const seen = await hoverMarks(page, at);
    if (holds(seen) || Date.now() > giveUpAt) return seen;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('a row moved up under a still pointer leaves no other row marked as under it', async () => {
  const laptop = await signedInAtIssuer(stage, 'nell');
  const rooms = [
    await createRoom(laptop, { name: 'Porch' }),
    await createRoom(laptop, { name: 'Cellar' }),
    await createRoom(laptop, { name: 'Loft' }),
  ];
  const other = await anotherDevice(stage, 'nell', { rooms });
  for (const roomId of rooms) await myRoom(laptop, roomId).waitFor({ state: 'attached' });
  const before = await order(laptop);
  await listsInOrder(other, before);
  // The laptop's pointer rests on the middle row, which shows as hovered.
  const middle = await myRoom(laptop, String(before[1])).boundingBox();
  const at = { x: (middle?.x ?? 0) + 20, y: (middle?.y ?? 0) + (middle?.height ?? 0) / 2 };
  await laptop.mouse.move(at.x, at.y);
  expect(await hoverMarksUntil(laptop, at, (seen) => seen.marked.join() === before[1])).toEqual({
    marked: [before[1]],
    under: before[1],
  });

  // On her other device she writes in the lowest room: on the laptop its row goes to the top, the rows above it move
  // down one, and the one that was on top is now under the pointer, which has not moved.
  const lowest = String(before.at(-1));
  await openListed(other, lowest);
  await nextSecond(Date.now());
  await say(other, 'down on the porch');
  const after = [lowest, ...before.filter((r) => r !== lowest)];
  await listsInOrder(laptop, after);
  // No row the pointer is not on shows as hovered (the row moved away from under it included).
  const moved = await hoverMarksUntil(laptop, at, (seen) => seen.marked.every((r) => r === seen.under));
  expect(moved.under).toBe(after[1]);
  expect(moved.marked.filter((r) => r !== moved.under)).toEqual([]);
  // The pointer moves a little: the row under it shows as hovered, and only that one.
  await laptop.mouse.move(at.x + 4, at.y);
  expect(await hoverMarksUntil(laptop, at, (seen) => seen.marked.join() === after[1])).toEqual({
    marked: [after[1]],
    under: after[1],
  });
});
