import { browserStage, hasText, signInByName } from '../helpers/browserStage';

/** The open chat (no sign-in) has no "Find people" box: the section says why direct messages need sign-in. */
jest.setTimeout(240_000);

const stage = browserStage();

it('says in the direct-message area that finding people and direct messages need sign-in', async () => {
  const page = await stage.newPage({ width: 1280, height: 800 });
  await signInByName(page, stage.cloud.httpUrl, 'carol');
  const note = page.getByTestId('find-people-signin');
  await note.waitFor({ state: 'attached' });
  expect(await note.textContent()).toMatch(/need sign-in/);
  expect(await page.getByTestId('find-people-input').count()).toBe(0);
  await hasText(page.locator('#find-people-heading'), 'Find people');
});
