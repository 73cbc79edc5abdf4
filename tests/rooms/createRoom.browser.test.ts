import { browserStage, createRoom, hasText, person, shownRoom } from '../helpers/browserStage';

/**
 * Creating a room from the sidebar's card in the web chat (web/directory.js, web/rooms.js), in Chromium against the
 * local cloud at 1280×800: "Public" without a name is refused under the name field (no private room is made instead);
 * a named room's settings show its name at once; the directory shows a room's topic under its name; a public name
 * another room holds is refused with a title in words.
 */
jest.setTimeout(240_000);

const stage = browserStage();
const DESKTOP = { viewport: { width: 1280, height: 800 } };

it('"Public" with a blank name is refused with a reason, and a named public room is made with its name in its settings', async () => {
  const dana = await person(stage, 'dana-create', DESKTOP);
  const lobby = await shownRoom(dana);
  await dana.getByTestId('new-room-public').check();
  await dana.getByTestId('create-room-button').click();
  await hasText(
    dana.getByTestId('new-room-hint'),
    'A public room needs a name: people find it by its name in the directory.',
  );
  expect(await dana.getByTestId('new-room-name').getAttribute('aria-invalid')).toBe('true');
  expect(await shownRoom(dana)).toBe(lobby);

  // Her first room, unnamed, with its settings open: they show no name, rightly.
  await dana.getByTestId('new-room-public').uncheck();
  await createRoom(dana);
  await dana.getByTestId('room-settings').locator('summary').click();
  expect(await dana.getByTestId('room-settings-name').inputValue()).toBe('');

  // Named, the same card makes the public room; the hint is gone, and its settings (still open) show the name it was
  // made with, not the room before's.
  const code = await createRoom(dana, { name: 'Night owls', listed: true });
  await hasText(dana.getByTestId('room-title'), '# Night owls');
  await hasText(dana.locator('#room-kind'), 'public room');
  expect(await dana.getByTestId('new-room-hint').textContent()).toBe('');
  expect(await dana.getByTestId('room-settings').getAttribute('open')).not.toBeNull();
  expect(await dana.getByTestId('room-settings-name').inputValue()).toBe('Night owls');
  expect(await dana.getByTestId('room-settings-public').isChecked()).toBe(true);
  expect(code).toHaveLength(8);
});

it('the directory shows a topic under its room name, and a taken name is refused with a title in words', async () => {
  const erin = await person(stage, 'erin-create', DESKTOP);
  const code = await createRoom(erin, { name: 'Birdwatch', listed: true });
  await erin.getByTestId('room-settings').locator('summary').click();
  await erin.getByTestId('room-settings-topic').fill('Sightings and photos');
  await erin.getByTestId('room-settings-save').click();
  await hasText(erin.locator('#room-sub'), 'Sightings and photos');

  const finn = await person(stage, 'finn-create', DESKTOP);
  await finn.getByTestId('directory-input').fill('Bird');
  const found = finn.locator(`[data-testid="directory-room"][data-room-id="${code}"]`);
  await found.waitFor();
  const name = await found.locator('.directory-name').boundingBox();
  const topic = await found.locator('.directory-topic').boundingBox();
  expect(await found.locator('.directory-name').textContent()).toBe('# Birdwatch');
  expect(await found.locator('.directory-topic').textContent()).toBe('Sightings and photos');
  // The topic starts on its own line, below the whole name: the two never read as one run of text.
  expect(topic?.y).toBeGreaterThanOrEqual((name?.y ?? 0) + (name?.height ?? 0));

  await finn.getByTestId('new-room-name').fill('birdwatch');
  await finn.getByTestId('new-room-public').check();
  await finn.getByTestId('create-room-button').click();
  const refused = finn.locator('[data-testid="toast"]').filter({ hasText: 'name' });
  await refused.waitFor();
  expect(await refused.locator('.toast-title').textContent()).toBe('Name taken');
});
