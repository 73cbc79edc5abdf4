import type { Locator, Page } from 'playwright-core';
import { browserStage, createRoom, joinRoom, person, messageRow as row, say } from '../helpers/browserStage';

/**
 * The chat's layout where people use it, in Chromium against the local cloud: at 1280×800 (a laptop, under 900 px of
 * height, where the member list is a short scroll box) and 390×844 (a phone). The owner's Moderate menu shows every
 * item, whole and on top, even with two members; the thread pane shares a laptop's width with the messages instead of
 * covering them, and may overlay them on a phone. Screenshots go to test-output/browser/.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Whether each element is inside the window and is what a click at its centre reaches (nothing clips or covers it). */
async function wholeAndOnTop(items: Locator): Promise<boolean[]> {
  return items.evaluateAll((elements) =>
    elements.map((el) => {
      const r = el.getBoundingClientRect();
      const w = globalThis as unknown as {
        innerWidth: number;
        innerHeight: number;
        document: { elementFromPoint(x: number, y: number): unknown };
      };
      const inside = r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0;
      const fits = r.right <= w.innerWidth && r.bottom <= w.innerHeight;
      const hit = w.document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return (
        inside && fits && (hit === el || (el as unknown as { contains(n: unknown): boolean }).contains(hit))
      );
    }),
  );
}

/** Creates a room from a phone's drawer (which closes on entering it): the room's code. */
async function createFromDrawer(page: Page): Promise<string> {
  await page.getByTestId('create-room-button').click();
  await page
    .locator('[data-testid="room-code"][data-room-id]:not([data-room-id="lobby"]):not([data-room-id=""])')
    .waitFor({ state: 'attached' });
  return (await page.getByTestId('room-code').getAttribute('data-room-id')) ?? '';
}

/** Owner and member in a room of two, the owner's page at `viewport`. */
async function roomOfTwoAt(viewport: { width: number; height: number }, tag: string): Promise<Page> {
  const phone = viewport === PHONE;
  const owner = await person(stage, `olive-${tag}`, { viewport, lobby: phone ? 'attached' : 'visible' });
  const member = await person(stage, `pete-${tag}`, { viewport: LAPTOP });
  // On a phone the room panel (create, members) is a drawer opened from the top bar.
  if (phone) await owner.getByTestId('sidebar-toggle').click();
  const code = phone ? await createFromDrawer(owner) : await createRoom(owner);
  await joinRoom(member, code);
  await owner
    .locator(`[data-testid="member-item"][data-username="pete-${tag}"]`)
    .waitFor({ state: 'attached' });
  return owner;
}

for (const [label, viewport] of [
  ['1280×800', LAPTOP],
  ['390×844', PHONE],
] as const) {
  it(`the owner's Moderate menu shows all its items, whole and on top, with two members at ${label}`, async () => {
    const tag = viewport === LAPTOP ? 'lap' : 'ph';
    const owner = await roomOfTwoAt(viewport, tag);
    if (viewport === PHONE) await owner.getByTestId('sidebar-toggle').click();
    const pete = owner.locator(`[data-testid="member-item"][data-username="pete-${tag}"]`);
    await pete.getByTestId('member-moderate').click();
    const menu = pete.getByTestId('member-menu');
    await menu.waitFor();
    await owner.screenshot({ path: `/tmp/moderate-menu-${tag}.png` });
    const items = menu.locator('[role="menuitem"]');
    // Make moderator, four mute lengths, Unmute, Ban.
    expect(await items.count()).toBe(7);
    expect(await wholeAndOnTop(items)).toEqual(Array(7).fill(true));
    // And it works: the last item, the furthest down, is clicked as it is shown.
    await pete.getByTestId('member-ban').click();
    await owner.getByTestId('confirm-dialog').waitFor();
  });
}

it('the thread pane shares a laptop window with the messages, and overlays them on a phone', async () => {
  const writer = await person(stage, 'quinn-thread', { viewport: LAPTOP });
  const code = await createRoom(writer);
  await say(writer, 'lunch plans?');
  await row(writer, 'lunch plans?').hover();
  await row(writer, 'lunch plans?').getByTestId('thread-message').click();
  const pane = writer.getByTestId('thread-pane');
  await pane.waitFor();
  await writer.screenshot({ path: '/tmp/thread-laptop.png' });
  const paneBox = await pane.boundingBox();
  const list = await writer.locator('#messages-scroll').boundingBox();
  const composer = await writer.getByTestId('composer-input').boundingBox();
  // Side by side: the messages and the composer end where the pane starts, and keep a readable width.
  expect((list?.x ?? 0) + (list?.width ?? 0)).toBeLessThanOrEqual(paneBox?.x ?? 0);
  expect((composer?.x ?? 0) + (composer?.width ?? 0)).toBeLessThanOrEqual(paneBox?.x ?? 0);
  expect(list?.width).toBeGreaterThanOrEqual(500);
  expect((paneBox?.x ?? 0) + (paneBox?.width ?? 0)).toBeLessThanOrEqual(LAPTOP.width);

  const phone = await person(stage, 'rita-thread', { viewport: PHONE, lobby: 'attached' });
  await phone.getByTestId('sidebar-toggle').click();
  await phone.getByTestId('join-input').fill(code);
  await phone.getByTestId('join-button').click();
  await phone.locator(`[data-testid="room-code"][data-room-id="${code}"]`).waitFor({ state: 'attached' });
  await row(phone, 'lunch plans?').getByTestId('thread-message').click({ force: true });
  await phone.getByTestId('thread-pane').waitFor();
  await phone.screenshot({ path: '/tmp/thread-phone.png' });
  const phonePane = await phone.getByTestId('thread-pane').boundingBox();
  expect(phonePane?.x).toBeGreaterThanOrEqual(0);
  expect((phonePane?.x ?? 0) + (phonePane?.width ?? 0)).toBeLessThanOrEqual(PHONE.width);
  expect(await wholeAndOnTop(phone.getByTestId('thread-input'))).toEqual([true]);
});
