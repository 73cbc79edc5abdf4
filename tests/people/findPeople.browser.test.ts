import { join } from 'node:path';
import {
  browserStage,
  createRoom,
  hasText,
  openedDirectRoom,
  SCREENSHOTS,
  signedInRoom,
} from '../helpers/browserStage';

/**
 * "Find people" in the web chat (web/findPeople.js), people signed in at the local cloud's development issuer: Ana
 * and Ben share a room; Ana moves on to a room of her own, types the start of Ben's name in the box, and the match
 * listed opens their direct message on a click, though Ben is not in the room she is in. The open chat's note is
 * tests/people/findPeopleOpen.browser.test.ts.
 */
jest.setTimeout(240_000);

const stage = browserStage({ AuthMode: 'oidc' });

it('lists a co-member of another room as you type and opens a direct message with them on a click', async () => {
  const { owner: ana, code } = await signedInRoom(stage, ['ana', 'benedict']);
  // Ana creates a room of her own: Ben is not in it.
  await createRoom(ana);

  await ana.getByTestId('find-people-input').pressSequentially('BEN', { delay: 40 });
  const result = ana.getByTestId('find-people-result');
  await result.first().waitFor();
  expect(await result.count()).toBe(1);
  await hasText(result.locator('button'), '✉ benedict');
  await ana.screenshot({ path: join(SCREENSHOTS, 'find-people.png') });

  // A name nobody in her rooms has: nothing listed, and the box says so.
  await ana.getByTestId('find-people-input').fill('zed');
  await hasText(ana.getByTestId('find-people-hint'), 'Nobody in your rooms has a name starting with "zed".');
  expect(await result.count()).toBe(0);

  await ana.getByTestId('find-people-input').fill('bene');
  await result.first().waitFor();
  await result.first().locator('button').click();
  // The pair's room: a 12-character code, not the room she was in.
  const dm = await openedDirectRoom(ana);
  expect(dm).not.toBe(code);
  // Her rooms list it by whom it is with, the name she found (the server learns it when Benedict opens it).
  await hasText(ana.locator(`[data-testid="my-room"][data-room-id="${dm}"] button`), '✉ benedict');
});
